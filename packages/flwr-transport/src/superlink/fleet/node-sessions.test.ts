/** NodeSessions: which connection holds a node's session, with a scripted liveness. */
import { describe, expect, test } from "vitest";
import { NodeSessions } from "./node-sessions.js";

describe("NodeSessions", () => {
  const open = new Set<string>();
  const sessions = () => new NodeSessions((peer) => open.has(peer));

  test("an open connection of the session other than the caller's blocks a new session", () => {
    open.clear();
    open.add("a:1").add("b:2");
    const s = sessions();
    s.activated(7n, "a:1");
    expect(s.liveOtherPeer(7n, "b:2")).toBe("a:1");
    // The session's own connection may activate again.
    expect(s.liveOtherPeer(7n, "a:1")).toBeUndefined();
    // Its connection closed (a crashed process): a new session may start.
    open.delete("a:1");
    expect(s.liveOtherPeer(7n, "b:2")).toBeUndefined();
    s.activated(7n, "b:2");
    open.add("a:1");
    expect(s.liveOtherPeer(7n, "a:1")).toBe("b:2");
  });

  test("calls on a new connection join the session; closed ones are dropped", () => {
    open.clear();
    open.add("a:1");
    const s = sessions();
    s.activated(7n, "a:1");
    open.delete("a:1");
    open.add("a:2"); // the same process reconnected
    s.seen(7n, "a:2");
    expect(s.liveOtherPeer(7n, "c:3")).toBe("a:2");
    expect(s.liveOtherPeer(7n, "a:2")).toBeUndefined();
  });

  test("unknown nodes: no entry unless asked; ended sessions block nothing", () => {
    open.clear();
    open.add("a:1");
    const s = sessions();
    s.seen(9n, "a:1", { create: false });
    expect(s.liveOtherPeer(9n, "b:2")).toBeUndefined();
    s.seen(9n, "a:1");
    expect(s.liveOtherPeer(9n, "b:2")).toBe("a:1");
    s.ended(9n);
    expect(s.liveOtherPeer(9n, "b:2")).toBeUndefined();
  });
});
