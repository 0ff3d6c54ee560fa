/**
 * Wire compatibility of `proto/flwr/proto/*.proto` with Python flwr: compiles our
 * .proto files with buf, dumps the descriptors compiled into an installed flwr
 * package (`interop/dump_descriptors.py`), normalises both to what matters on the
 * wire and for gRPC (files, packages, imports, messages, map entries, oneofs, fields
 * with number/type/label/proto3-optional, enums, services with streaming flags) and
 * compares them:
 *
 * - against flwr 1.29.0 (`.venv/`): equal, except the fields newer releases added
 *   that we declare too ({@link ADDED_AFTER_1_29}, each required to be absent in 1.29);
 * - against flwr 1.42.0 (`.venv-1.42/`): the Runtime API files (`proto/runtime-1.42/`:
 *   runtime.proto, task.proto, runseries.proto, compiled apart) equal 1.42's; every field we
 *   declare in a message 1.42
 *   also has must be 1.42's field (same name, number, type, label, oneof), except the
 *   1.29-only fields of {@link ONLY_1_29}; every message the Fleet service and our
 *   Control methods reach in 1.42 must be declared with all its 1.42 fields, except
 *   {@link NOT_ADOPTED_1_42}; Fleet must equal 1.42's and our Control methods must
 *   have 1.42's signatures.
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type FlwrReference,
  pinnedFlwrVersion,
  pythonFlwr,
  pythonFlwrAvailable,
  pythonFlwrProblem,
  repoRoot,
  runPythonFlwr,
} from "../../../interop/python.js";

const bufBin = join(repoRoot, "node_modules/@bufbuild/buf/bin/buf");

/**
 * Fields we declare that flwr 1.29 lacks: fields later releases added to messages 1.29
 * already had (same number and type as in 1.42; 1.29 peers skip them as unknown). The
 * release that added each is in the .proto comment.
 */
const ADDED_AFTER_1_29: Record<string, readonly string[]> = {
  ".flwr.proto.Metadata": ["src_task_id", "dst_task_id"],
  ".flwr.proto.Context": ["series_id"],
  ".flwr.proto.PushObjectRequest": ["session_id"],
  ".flwr.proto.PushMessagesResponse": ["session_id"],
  ".flwr.proto.NodeInfo": ["location", "name"],
  ".flwr.proto.Run": ["primary_task_id", "series_id", "account_name"],
  ".flwr.proto.Federation": [
    "can_invite_members",
    "can_add_supernodes",
    "member_count",
    "icon_key",
  ],
  ".flwr.proto.RegisterNodeRequest": ["location", "name"],
  ".flwr.proto.ListRunsRequest": ["skip"],
  ".flwr.proto.StartRunRequest": ["series_id", "connector_refs", "user_prompt", "connector_ids"],
  ".flwr.proto.StartRunResponse": ["series_id", "federation"],
  ".flwr.proto.StreamRunEventsRequest": ["after_task_event_id"],
  ".flwr.proto.ConfigureSimulationFederationResponse": ["federation_name"],
};

/**
 * Fields we declare (flwr 1.29's) in messages flwr 1.42 also has, that 1.42 lacks,
 * with what 1.42 has at that number instead.
 */
const ONLY_1_29: Record<string, Record<string, string>> = {
  // Renamed in 1.32; same number and type, so the wire is unchanged (the values differ:
  // "serverapp" vs "flwr-serverapp").
  ".flwr.proto.Run": { run_type: "primary_task_type: #16 optional string" },
  // Replaced in 1.31 by a TaskEvent message at field 1: not compatible with 1.42.
  ".flwr.proto.StreamRunEventsResponse": {
    event: "task_event: #1 optional message .flwr.proto.TaskEvent",
    data: "(none)",
  },
};

/**
 * Messages of our app-process API (flwr 1.29's ServerAppIo) whose names flwr 1.42 reuses
 * for different messages of its Runtime API (runtime.proto): not the same message, not
 * compared.
 */
const HOMONYMS_1_42: readonly string[] = [
  ".flwr.proto.GetNodesRequest",
  ".flwr.proto.GetNodesResponse",
  ".flwr.proto.PullAppMessagesRequest",
  ".flwr.proto.PullAppMessagesResponse",
  ".flwr.proto.PushAppMessagesRequest",
  ".flwr.proto.PushAppMessagesResponse",
];

/** flwr 1.42 fields of messages we declare that we do not declare (and why). */
const NOT_ADOPTED_1_42: Record<string, readonly string[]> = {
  // Field 1 of 1.29's form is a string (ONLY_1_29); TaskEvent needs task.proto.
  ".flwr.proto.StreamRunEventsResponse": ["task_event"],
  // The 1.32 name of Run field 16, declared under its 1.29 name run_type (ONLY_1_29).
  ".flwr.proto.Run": ["primary_task_type"],
};
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

/** flwr 1.42's Runtime API files: a buf module of their own (proto/buf.yaml). */
const RUNTIME_MODULE_FILES = "proto/runtime-1.42/flwr";
/** The files of that module, as flwr 1.42 names them. */
const RUNTIME_1_42_FILES: readonly string[] = [
  "flwr/proto/runseries.proto",
  "flwr/proto/runtime.proto",
  "flwr/proto/task.proto",
];

/**
 * Compiles one module of proto/ with buf into FileDescriptorProtos (JSON form): the 1.29
 * files (`"1.29"`) or flwr 1.42's Runtime API files with what they import (`"runtime"`). The
 * two never compile together: runtime.proto reuses names of serverappio.proto messages.
 */
function ourDescriptors(module: "1.29" | "runtime" = "1.29"): FileDesc[] {
  const select =
    module === "1.29" ? ["--exclude-path", RUNTIME_MODULE_FILES] : ["--path", RUNTIME_MODULE_FILES];
  const json = execFileSync(
    bufBin,
    ["build", "proto", ...select, "--exclude-source-info", "-o", "-#format=json"],
    { cwd: repoRoot, encoding: "utf8", maxBuffer: 1 << 26 },
  );
  return z.object({ file: z.array(fileSchema) }).parse(JSON.parse(json)).file;
}

/** The descriptors compiled into a Python flwr reference's package. */
function pythonDescriptors(ref: FlwrReference): { flwrVersion: string; file: FileDesc[] } {
  const script = `import runpy, sys; sys.argv = ["dump_descriptors.py"]; runpy.run_path(${JSON.stringify(
    join(repoRoot, "interop/dump_descriptors.py"),
  )}, run_name="__main__")`;
  return z
    .object({ flwrVersion: z.string(), file: z.array(fileSchema) })
    .parse(JSON.parse(runPythonFlwr(ref, script)));
}

/** `messages` without the listed fields of each message (and their proto3-optional oneofs). */
function withoutFields(
  messages: Normalized["messages"],
  drop: Record<string, readonly string[]>,
): Normalized["messages"] {
  return Object.fromEntries(
    Object.entries(messages).map(([name, m]) => {
      const gone = new Set(drop[name] ?? []);
      const goneOneofs = new Set(
        Object.entries(m.fields)
          .filter(([f, d]) => gone.has(f) && d.includes(" proto3_optional"))
          .map(([, d]) => /oneof=(\S+)/.exec(d)?.[1]),
      );
      return [
        name,
        {
          ...m,
          oneofs: m.oneofs.filter((o) => !goneOneofs.has(o)),
          fields: Object.fromEntries(Object.entries(m.fields).filter(([f]) => !gone.has(f))),
        },
      ];
    }),
  );
}

/** The type name a field description refers to (`.flwr.proto.X`), if any. */
function fieldTypeName(description: string): string | undefined {
  return description.split(" ").find((part) => part.startsWith("."));
}

/**
 * The messages reachable from the given methods' input and output types, following
 * message-typed fields (map entries included), skipping the fields in `skip`.
 */
function reachableMessages(
  n: Normalized,
  methods: string[],
  skip: Record<string, readonly string[]>,
): Set<string> {
  const seen = new Set<string>();
  const queue = methods.flatMap((m) => m.replace(/stream /g, "").split(" -> "));
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name) || n.messages[name] === undefined) continue;
    seen.add(name);
    const skipped = new Set(skip[name] ?? []);
    for (const [field, description] of Object.entries(n.messages[name].fields)) {
      const typeName = fieldTypeName(description);
      if (!skipped.has(field) && typeName !== undefined) queue.push(typeName);
    }
  }
  return seen;
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
      const py = pythonDescriptors("1.29");
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

    it("has the same messages, map entries, oneofs and fields, plus the listed later fields", () => {
      expect(Object.keys(ours.messages).sort()).toEqual(Object.keys(theirs.messages).sort());
      expect(withoutFields(ours.messages, ADDED_AFTER_1_29)).toEqual(theirs.messages);
    });

    it("lists only fields that we declare and 1.29 lacks as later additions", () => {
      for (const [message, fields] of Object.entries(ADDED_AFTER_1_29)) {
        for (const field of fields) {
          expect(ours.messages[message]?.fields[field], `${message}.${field}`).toBeDefined();
          expect(theirs.messages[message]?.fields[field], `${message}.${field}`).toBeUndefined();
        }
      }
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
      expect(generated).toEqual([...Object.keys(theirs.files), ...RUNTIME_1_42_FILES].sort());
    });
  },
);

const flwr142 = pythonFlwr("1.42");

describe.skipIf(!flwr142.available)(
  `proto/ descriptors agree with Python flwr ${flwr142.version} where they overlap${flwr142.problem ? ` (skipped: ${flwr142.problem})` : ""}`,
  () => {
    let ours: Normalized;
    let theirs: Normalized;
    let theirVersion: string;

    beforeAll(() => {
      ours = normalize(ourDescriptors());
      const py = pythonDescriptors("1.42");
      theirVersion = py.flwrVersion;
      theirs = normalize(py.file);
    });

    // Messages both declare in the same file.
    const shared = (): string[] =>
      Object.keys(ours.messages).filter(
        (m) =>
          theirs.messages[m] !== undefined && theirs.messages[m].file === ours.messages[m]!.file,
      );

    it("reuses only the listed names for messages of other files", () => {
      const homonyms = Object.keys(ours.messages).filter(
        (m) =>
          theirs.messages[m] !== undefined && theirs.messages[m].file !== ours.messages[m]!.file,
      );
      expect(homonyms.sort()).toEqual([...HOMONYMS_1_42].sort());
      for (const m of homonyms) expect(theirs.messages[m]!.file).toBe("flwr/proto/runtime.proto");
    });

    it("dumps flwr 1.42", () => {
      expect(theirVersion).toBe(flwr142.version);
      expect(Object.keys(theirs.messages)).toContain(".flwr.proto.PullMessagesRequest");
    });

    it("declares every field of a shared message as 1.42 does, or lists it as 1.29-only", () => {
      const mismatches: string[] = [];
      for (const name of shared()) {
        const mine = ours.messages[name]!;
        const other = theirs.messages[name]!;
        expect(mine.mapEntry, name).toBe(other.mapEntry);
        for (const [field, description] of Object.entries(mine.fields)) {
          const only129 = ONLY_1_29[name]?.[field];
          if (only129 !== undefined) {
            expect(other.fields[field], `${name}.${field} is listed as 1.29-only`).toBeUndefined();
            continue;
          }
          if (other.fields[field] !== description)
            mismatches.push(`${name}.${field}: ours ${description}, 1.42 ${other.fields[field]}`);
        }
      }
      expect(mismatches).toEqual([]);
    });

    it("keeps the numbers of 1.29-only fields apart from 1.42's, except the listed reuses", () => {
      for (const [name, fields] of Object.entries(ONLY_1_29)) {
        const numbersOf142 = new Map(
          Object.entries(theirs.messages[name]?.fields ?? {}).map(([f, d]) => [d.split(" ")[0], f]),
        );
        for (const [field, replacement] of Object.entries(fields)) {
          const number = ours.messages[name]?.fields[field]?.split(" ")[0];
          expect(number, `${name}.${field}`).toBeDefined();
          const reuse = numbersOf142.get(number!);
          if (reuse === undefined) expect(replacement, `${name}.${field}`).toBe("(none)");
          else
            expect(
              replacement.startsWith(`${reuse}: ${theirs.messages[name]!.fields[reuse]}`),
            ).toBe(true);
        }
      }
    });

    it("declares every message and field that Fleet and our Control methods reach in 1.42", () => {
      const fleet = theirs.services[".flwr.proto.Fleet"]!;
      const control = theirs.services[".flwr.proto.Control"]!;
      const ourControl = Object.keys(ours.services[".flwr.proto.Control"]!.methods);
      const reached = reachableMessages(
        theirs,
        [...Object.values(fleet.methods), ...ourControl.map((m) => control.methods[m]!)],
        NOT_ADOPTED_1_42,
      );
      expect(reached.size).toBeGreaterThan(40);
      const missing: string[] = [];
      for (const name of reached) {
        if (ours.messages[name] === undefined) {
          missing.push(name);
          continue;
        }
        const skipped = new Set(NOT_ADOPTED_1_42[name] ?? []);
        for (const field of Object.keys(theirs.messages[name]!.fields))
          if (!skipped.has(field) && ours.messages[name]!.fields[field] === undefined)
            missing.push(`${name}.${field}`);
      }
      expect(missing).toEqual([]);
    });

    it("lists only 1.42 fields that we do not declare as not adopted", () => {
      for (const [name, fields] of Object.entries(NOT_ADOPTED_1_42))
        for (const field of fields) {
          expect(theirs.messages[name]?.fields[field], `${name}.${field}`).toBeDefined();
          expect(ours.messages[name]?.fields[field], `${name}.${field}`).toBeUndefined();
        }
    });

    it("has 1.42's enum values in the enums both declare", () => {
      for (const [name, e] of Object.entries(ours.enums)) {
        const other = theirs.enums[name];
        if (other !== undefined) expect(e.values, name).toEqual(other.values);
      }
    });

    it("declares flwr 1.42's Runtime API files (runtime, task, runseries) exactly as 1.42", () => {
      const runtime = normalize(ourDescriptors("runtime"));
      for (const file of RUNTIME_1_42_FILES) {
        expect(runtime.files[file], file).toEqual(theirs.files[file]);
        const inFile = (n: Normalized) =>
          Object.fromEntries(Object.entries(n.messages).filter(([, m]) => m.file === file));
        const mine = inFile(runtime);
        expect(Object.keys(mine).length, file).toBeGreaterThan(1);
        expect(mine, file).toEqual(inFile(theirs));
        expect(
          Object.values(runtime.services).filter((s) => s.file === file),
          `${file} declares no service, as 1.42`,
        ).toEqual(Object.values(theirs.services).filter((s) => s.file === file));
      }
      // What the Runtime API messages reach in the 1.29 files is declared as 1.42 has it
      // (checked field by field above, for shared messages).
      const reached = reachableMessages(
        theirs,
        Object.keys(theirs.messages)
          .filter((m) => theirs.messages[m]!.file === "flwr/proto/runtime.proto")
          .map((m) => `${m} -> ${m}`),
        NOT_ADOPTED_1_42,
      );
      const missing = [...reached].filter((m) => runtime.messages[m] === undefined);
      expect(missing).toEqual([]);
    });

    it("has 1.42's Fleet service and 1.42's signatures for our Control methods", () => {
      expect(ours.services[".flwr.proto.Fleet"]).toEqual(theirs.services[".flwr.proto.Fleet"]);
      const control = theirs.services[".flwr.proto.Control"]!.methods;
      for (const [method, signature] of Object.entries(
        ours.services[".flwr.proto.Control"]!.methods,
      ))
        expect(control[method], method).toBe(signature);
    });
  },
);
