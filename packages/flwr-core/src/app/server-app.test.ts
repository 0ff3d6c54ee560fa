import { describe, expect, it } from "vitest";
import { importDecorated } from "../../test/support/import-decorated.js";
import type { Grid } from "../grid/grid.js";
import { InMemoryGrid } from "../grid/in-memory-grid.js";
import { Context } from "../message/context.js";
import { AppError } from "./errors.js";
import { ServerApp } from "./server-app.js";

const context = () => new Context({ runId: 1n, nodeId: 1n, runConfig: { rounds: 2n } });

describe("ServerApp", () => {
  it("runs a main registered with the function form", async () => {
    const app = new ServerApp();
    const seen: unknown[] = [];
    const fn = async (grid: Grid, ctx: Context) => {
      seen.push(grid.runId, ctx.runConfig["rounds"]);
    };
    expect(app.main()(fn)).toBe(fn);
    await app.run(new InMemoryGrid({ runId: 9n }), context());
    expect(seen).toEqual([9n, 2n]);
  });

  it("runs a main registered with a TC39 decorator", async () => {
    const app = new ServerApp();
    const seen: unknown[] = [];
    const { define } = await importDecorated<{
      define: (app: ServerApp, seen: unknown[]) => { label: string };
    }>(`
      export function define(app, seen) {
        class Server {
          static label = "S";
          @app.main()
          static async main(grid, _ctx) {
            seen.push(this.label, grid.runId);
          }
        }
        return Server;
      }
    `);
    expect(define(app, seen).label).toBe("S");
    await app.run(new InMemoryGrid({ runId: 3n }), context());
    expect(seen).toEqual(["S", 3n]);
  });

  it("propagates errors and refuses a second or missing main", async () => {
    const app = new ServerApp();
    await expect(app.run(new InMemoryGrid(), context())).rejects.toThrow(AppError);
    app.main()(() => {
      throw new Error("boom");
    });
    expect(() => app.main()(() => {})).toThrow(/already has a main function/);
    await expect(app.run(new InMemoryGrid(), context())).rejects.toThrow("boom");
  });
});
