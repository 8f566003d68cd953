import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isKnowledgeFile, loadDocument } from "../../../src/knowledge/document-loader.ts";
import { formatProblem } from "../../../src/knowledge/knowledge-document.ts";

const load = (path: string, text: string) => loadDocument(path, Buffer.from(text));

describe("loadDocument: Markdown", () => {
  it("reads title, url, tags, audience and lang from front matter", () => {
    const { document, problems } = load(
      "billing/refunds.md",
      "---\ntitle: Refunds\nurl: https://help.example.com/refunds\ntags: [refund, money back]\naudience: customers\nlang: en\n---\n\nRefunds take 5 days.\n",
    );
    assert.deepEqual(problems, []);
    assert.equal(document?.title, "Refunds");
    assert.equal(document?.url, "https://help.example.com/refunds");
    assert.deepEqual(document?.tags, ["refund", "money back"]);
    assert.equal(document?.audience, "customers");
    assert.equal(document?.lang, "en");
    // Body lines keep their line numbers in the file (front matter is lines 1-7).
    assert.deepEqual(
      document?.lines.find((l) => l.text.startsWith("Refunds take")),
      { text: "Refunds take 5 days.", line: 9 },
    );
  });

  it("uses a leading H1 as the title when front matter has none", () => {
    const { document } = load("a.md", "# Track your order\n\nUse the link.\n");
    assert.equal(document?.title, "Track your order");
    assert.ok(!document?.lines.some((l) => l.text.startsWith("# ")));
  });

  it("reports broken YAML with the file line of the error and skips the file", () => {
    const { document, problems } = load("bad.md", "---\ntitle: Refunds\ntags: [a, b\n---\nBody\n");
    assert.equal(document, undefined);
    assert.equal(problems[0]?.severity, "error");
    assert.ok((problems[0]?.line ?? 0) >= 3, `line ${problems[0]?.line}`);
    // One position, path:line:column in the file, not the YAML block's own "at line 2, column 11".
    const text = formatProblem(problems[0] ?? ({} as never));
    assert.match(text, /^bad\.md:3:\d+: bad front matter: /);
    assert.doesNotMatch(text, /at line|column \d/);
  });

  it("refuses a url that is not http(s), such as javascript:", () => {
    for (const url of ["javascript:alert(1)", "data:text/html,x", "ftp://files.example.com/a"]) {
      const { document, problems } = load("a.md", `---\ntitle: A\nurl: "${url}"\n---\nBody\n`);
      assert.equal(document, undefined, url);
      assert.equal(problems[0]?.line, 3);
      assert.match(problems[0]?.message ?? "", /http\(s\)/);
    }
  });

  it("drops an HTML canonical link that is not http(s), with a warning", () => {
    const html =
      '<html><head><title>T</title><link rel="canonical" href="javascript:alert(1)"></head><body><p>Body text</p></body></html>';
    const { document, problems } = load("a.html", html);
    assert.ok(document);
    assert.equal(document.url, undefined);
    assert.match(problems[0]?.message ?? "", /canonical link ignored/);
  });

  it("reports a bad url on the line of its key", () => {
    const { document, problems } = load("a.md", "---\ntitle: A\nurl: not a url\n---\nBody\n");
    assert.equal(document, undefined);
    assert.equal(problems[0]?.line, 3);
    assert.match(problems[0]?.message ?? "", /url/);
  });

  it("warns about unknown keys but keeps the file", () => {
    const { document, problems } = load("a.md", "---\ntitel: A\n---\nBody\n");
    assert.ok(document);
    assert.equal(problems[0]?.severity, "warning");
    assert.equal(problems[0]?.line, 2);
    assert.match(problems[0]?.message ?? "", /unknown front matter key "titel"/);
  });

  it("reports front matter that is never closed", () => {
    const { document, problems } = load("a.md", "---\ntitle: A\nBody\n");
    assert.equal(document, undefined);
    assert.match(problems[0]?.message ?? "", /no closing ---/);
  });

  it("skips an article with headings but no text", () => {
    const { document, problems } = load("a.md", "---\ntitle: A\n---\n## Only a heading\n");
    assert.equal(document, undefined);
    assert.match(problems[0]?.message ?? "", /no content/);
  });
});

describe("loadDocument: other formats and bad bytes", () => {
  it("takes a text file's first line as its title", () => {
    const { document } = load("a.txt", "Firmware updates\n\nThey run at night.\n");
    assert.equal(document?.title, "Firmware updates");
    assert.equal(document?.format, "text");
    assert.deepEqual(
      document?.lines.find((l) => l.text.startsWith("They")),
      { text: "They run at night.", line: 3 },
    );
  });

  it("converts HTML to headings and text with source lines, dropping scripts and navigation", () => {
    const html =
      '<html lang="en"><head><title>Warranty</title><link rel="canonical" href="https://h.example/w">' +
      '<meta name="keywords" content="warranty, repair"></head>\n<body><nav>Home</nav>\n<h1>Warranty</h1>\n' +
      "<p>Two years.</p>\n<h2>Claims</h2>\n<ul><li>Call us</li></ul>\n<script>evil()</script></body></html>";
    const { document } = load("w.html", html);
    assert.equal(document?.title, "Warranty");
    assert.equal(document?.url, "https://h.example/w");
    assert.deepEqual(document?.tags, ["warranty", "repair"]);
    const texts = document?.lines.filter((l) => l.text).map((l) => [l.text, l.line]);
    assert.deepEqual(texts, [
      ["Two years.", 4],
      ["## Claims", 5],
      ["- Call us", 6],
    ]);
  });

  it("reports text that is not UTF-8 with the line of the bad byte", () => {
    const bytes = Buffer.concat([
      Buffer.from("---\ntitle: A\n---\nok\n"),
      Buffer.from([0xc3, 0x28]),
      Buffer.from("\n"),
    ]);
    const { document, problems } = loadDocument("a.md", bytes);
    assert.equal(document, undefined);
    assert.deepEqual(
      problems.map((p) => [p.line, p.message]),
      [[5, "unreadable content: not valid UTF-8 text"]],
    );
  });

  it("reports binary content", () => {
    const { problems } = loadDocument("a.md", Buffer.from([0x41, 0x0a, 0x00, 0x01]));
    assert.deepEqual(
      problems.map((p) => [p.line, p.message]),
      [[2, "unreadable content: binary data (NUL byte)"]],
    );
  });

  it("knows which files are articles", () => {
    assert.ok(isKnowledgeFile("billing/refunds.md"));
    assert.ok(isKnowledgeFile("a/b.HTML"));
    assert.ok(!isKnowledgeFile("README.md"));
    assert.ok(isKnowledgeFile("billing/README.md"));
    assert.ok(!isKnowledgeFile("_draft.md"));
    assert.ok(!isKnowledgeFile("image.png"));
  });
});
