/**
 * Wire compatibility of `proto/flwr/proto/*.proto` with the pinned Python flwr:
 * compiles our .proto files with buf, dumps the descriptors compiled into the
 * installed flwr package (`interop/dump_descriptors.py`), normalises both to what
 * matters on the wire and for gRPC (files, packages, imports, messages, map entries,
 * oneofs, fields with number/type/label/proto3-optional, enums, services with
 * streaming flags) and requires them to be equal.
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  pinnedFlwrVersion,
  pythonFlwrAvailable,
  pythonFlwrProblem,
  repoRoot,
  runPython,
} from "../../../interop/python.js";

const bufBin = join(repoRoot, "node_modules/@bufbuild/buf/bin/buf");
const generatedDir = join(repoRoot, "packages/flwr-core/src/proto/generated/flwr/proto");

// The subset of google.protobuf.FileDescriptorProto (JSON form) that the comparison reads.
const fieldSchema = z.object({
  name: z.string(),
  number: z.number().int(),
  label: z.string(),
  type: z.string(),
  typeName: z.string().optional(),
  oneofIndex: z.number().int().optional(),
  proto3Optional: z.boolean().optional(),
});
const enumSchema = z.object({
  name: z.string(),
  value: z.array(z.object({ name: z.string(), number: z.number().int() })).default([]),
});
type MessageDesc = {
  name: string;
  field: z.infer<typeof fieldSchema>[];
  nestedType: MessageDesc[];
  enumType: z.infer<typeof enumSchema>[];
  oneofDecl: { name: string }[];
  options?: { mapEntry?: boolean | undefined } | undefined;
  extension: unknown[];
};
const messageSchema: z.ZodType<MessageDesc, unknown> = z.lazy(() =>
  z.object({
    name: z.string(),
    field: z.array(fieldSchema).default([]),
    nestedType: z.array(messageSchema).default([]),
    enumType: z.array(enumSchema).default([]),
    oneofDecl: z.array(z.object({ name: z.string() })).default([]),
    options: z.object({ mapEntry: z.boolean().optional() }).optional(),
    extension: z.array(z.unknown()).default([]),
  }),
);
const fileSchema = z.object({
  name: z.string(),
  package: z.string().default(""),
  syntax: z.string().default("proto2"),
  dependency: z.array(z.string()).default([]),
  publicDependency: z.array(z.number().int()).default([]),
  messageType: z.array(messageSchema).default([]),
  enumType: z.array(enumSchema).default([]),
  service: z
    .array(
      z.object({
        name: z.string(),
        method: z
          .array(
            z.object({
              name: z.string(),
              inputType: z.string(),
              outputType: z.string(),
              clientStreaming: z.boolean().optional(),
              serverStreaming: z.boolean().optional(),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  extension: z.array(z.unknown()).default([]),
});
type FileDesc = z.infer<typeof fileSchema>;

/** Descriptors reduced to what must match; fields and methods become one readable line each. */
interface Normalized {
  files: Record<string, { package: string; syntax: string; imports: string[]; public: string[] }>;
  messages: Record<
    string,
    { file: string; mapEntry: boolean; oneofs: string[]; fields: Record<string, string> }
  >;
  enums: Record<string, { file: string; values: Record<string, number> }>;
  services: Record<string, { file: string; methods: Record<string, string> }>;
}

function describeField(f: z.infer<typeof fieldSchema>, oneofs: string[]): string {
  const parts = [
    `#${f.number}`,
    f.label.replace(/^LABEL_/, "").toLowerCase(),
    f.type.replace(/^TYPE_/, "").toLowerCase(),
  ];
  if (f.typeName !== undefined) parts.push(f.typeName);
  if (f.proto3Optional) parts.push("proto3_optional");
  if (f.oneofIndex !== undefined) parts.push(`oneof=${oneofs[f.oneofIndex] ?? `?${f.oneofIndex}`}`);
  return parts.join(" ");
}

function normalize(files: FileDesc[]): Normalized {
  const out: Normalized = { files: {}, messages: {}, enums: {}, services: {} };
  const addEnum = (file: string, prefix: string, e: z.infer<typeof enumSchema>) => {
    out.enums[`${prefix}.${e.name}`] = {
      file,
      values: Object.fromEntries(e.value.map((v) => [v.name, v.number])),
    };
  };
  const addMessage = (file: string, prefix: string, m: MessageDesc) => {
    const full = `${prefix}.${m.name}`;
    const oneofs = m.oneofDecl.map((o) => o.name);
    if (m.extension.length > 0) throw new Error(`${full}: extensions are not supported`);
    out.messages[full] = {
      file,
      mapEntry: m.options?.mapEntry === true,
      oneofs,
      fields: Object.fromEntries(m.field.map((f) => [f.name, describeField(f, oneofs)])),
    };
    for (const n of m.nestedType) addMessage(file, full, n);
    for (const e of m.enumType) addEnum(file, full, e);
  };
  for (const f of files) {
    if (f.extension.length > 0) throw new Error(`${f.name}: extensions are not supported`);
    out.files[f.name] = {
      package: f.package,
      syntax: f.syntax,
      imports: [...f.dependency].sort(),
      public: f.publicDependency.map((i) => f.dependency[i] ?? `?${i}`).sort(),
    };
    const prefix = f.package === "" ? "" : `.${f.package}`;
    for (const m of f.messageType) addMessage(f.name, prefix, m);
    for (const e of f.enumType) addEnum(f.name, prefix, e);
    for (const s of f.service) {
      out.services[`${prefix}.${s.name}`] = {
        file: f.name,
        methods: Object.fromEntries(
          s.method.map((m) => [
            m.name,
            `${m.clientStreaming ? "stream " : ""}${m.inputType} -> ${m.serverStreaming ? "stream " : ""}${m.outputType}`,
          ]),
        ),
      };
    }
  }
  return out;
}

/** Compiles proto/ with buf into FileDescriptorProtos (JSON form). */
function ourDescriptors(): FileDesc[] {
  const json = execFileSync(
    bufBin,
    ["build", "proto", "--exclude-source-info", "-o", "-#format=json"],
    { cwd: repoRoot, encoding: "utf8", maxBuffer: 1 << 26 },
  );
  return z.object({ file: z.array(fileSchema) }).parse(JSON.parse(json)).file;
}

/** The descriptors compiled into the pinned Python flwr package. */
function pythonDescriptors(): { flwrVersion: string; file: FileDesc[] } {
  const script = `import runpy, sys; sys.argv = ["dump_descriptors.py"]; runpy.run_path(${JSON.stringify(
    join(repoRoot, "interop/dump_descriptors.py"),
  )}, run_name="__main__")`;
  return z
    .object({ flwrVersion: z.string(), file: z.array(fileSchema) })
    .parse(JSON.parse(runPython(script)));
}

describe("descriptor normalisation", () => {
  const sample: FileDesc[] = [
    fileSchema.parse({
      name: "a.proto",
      package: "p",
      syntax: "proto3",
      messageType: [
        {
          name: "M",
          field: [
            { name: "x", number: 1, label: "LABEL_OPTIONAL", type: "TYPE_UINT64" },
            { name: "y", number: 2, label: "LABEL_OPTIONAL", type: "TYPE_SINT64" },
          ],
        },
      ],
    }),
  ];
  const change = (mutate: (m: MessageDesc) => void): Normalized => {
    const copy = structuredClone(sample);
    mutate(copy[0]!.messageType[0]!);
    return normalize(copy);
  };

  it("describes a field by number, label, type, oneof and proto3 optional", () => {
    expect(normalize(sample).messages[".p.M"]?.fields).toEqual({
      x: "#1 optional uint64",
      y: "#2 optional sint64",
    });
  });

  it("detects a changed field number, type, label or name", () => {
    const base = normalize(sample);
    expect(change((m) => (m.field[1]!.number = 3))).not.toEqual(base);
    expect(change((m) => (m.field[0]!.type = "TYPE_INT64"))).not.toEqual(base);
    expect(change((m) => (m.field[0]!.label = "LABEL_REPEATED"))).not.toEqual(base);
    expect(change((m) => (m.field[0]!.name = "z"))).not.toEqual(base);
    expect(change((m) => (m.field[0]!.proto3Optional = true))).not.toEqual(base);
  });
});

describe.skipIf(!pythonFlwrAvailable)(
  `proto/ descriptors equal Python flwr ${pinnedFlwrVersion}${pythonFlwrProblem ? ` (skipped: ${pythonFlwrProblem})` : ""}`,
  () => {
    let ours: Normalized;
    let theirs: Normalized;
    let theirVersion: string;

    beforeAll(() => {
      ours = normalize(ourDescriptors());
      const py = pythonDescriptors();
      theirVersion = py.flwrVersion;
      theirs = normalize(py.file);
    });

    it("dumps the pinned flwr version", () => {
      expect(theirVersion).toBe(pinnedFlwrVersion);
      expect(Object.keys(theirs.files).length).toBeGreaterThan(10);
    });

    it("has the same .proto files, packages, syntax and imports", () => {
      expect(ours.files).toEqual(theirs.files);
    });

    it("has the same messages, map entries, oneofs and fields", () => {
      expect(Object.keys(ours.messages).sort()).toEqual(Object.keys(theirs.messages).sort());
      expect(ours.messages).toEqual(theirs.messages);
    });

    it("has the same enums and values", () => {
      expect(ours.enums).toEqual(theirs.enums);
    });

    it("has the same services, methods and streaming flags", () => {
      expect(ours.services).toEqual(theirs.services);
    });

    it("has one generated TypeScript module per .proto file", () => {
      const generated = readdirSync(generatedDir)
        .filter((f) => f.endsWith(".ts"))
        .map((f) => `flwr/proto/${f.replace(/\.ts$/, ".proto")}`)
        .sort();
      expect(generated).toEqual(Object.keys(theirs.files).sort());
    });
  },
);
