import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventStreamParser, type StreamEvent } from "../../../../../adapters/webchat/widget/event-stream.ts";

const parse = (chunks: string[]) => {
  const events: StreamEvent[] = [];
  const parser = new EventStreamParser((e) => events.push(e));
  for (const chunk of chunks) parser.push(chunk);
  return { events, parser };
};

describe("EventStreamParser", () => {
  const stream =
    'retry: 2000\n\nid: 1-0~2-0\nevent: token\ndata: {"text":"Hel"}\n\n: ping\n\nid: 1-0~2-1\nevent: reply\ndata: {"text":"Hello"}\n\n';

  it("parses events with their ids, skipping comments and the retry-only block", () => {
    const { events, parser } = parse([stream]);
    assert.deepEqual(events, [
      { event: "token", data: '{"text":"Hel"}', id: "1-0~2-0" },
      { event: "reply", data: '{"text":"Hello"}', id: "1-0~2-1" },
    ]);
    assert.equal(parser.retryMs, 2000);
  });

  it("gives the same events however the bytes are split, including CRLF line ends", () => {
    const whole = parse([stream]).events;
    for (const size of [1, 2, 3, 7, 13]) {
      const chunks: string[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
      assert.deepEqual(parse(chunks).events, whole, `chunks of ${size}`);
    }
    assert.deepEqual(parse([stream.replaceAll("\n", "\r\n")]).events, whole);
  });

  it("joins multi-line data and defaults the event name to message", () => {
    const { events } = parse(["data: a\ndata: b\n\n"]);
    assert.deepEqual(events, [{ event: "message", data: "a\nb", id: undefined }]);
  });

  it("does not dispatch an event whose blank line has not arrived yet", () => {
    assert.deepEqual(parse(['id: 1\nevent: token\ndata: {"text":"x"}\n']).events, []);
  });
});
