/**
 * Keeps docs/reliability.md in sync with the checklist it embeds (docs/reliability-checklist.md)
 * and with the test sources: every checklist case has one row, every row cites tests that exist,
 * and every test of the files that cover the checklist is cited. Test titles are read from the
 * sources (`it("…")`, `it('…')`, `` it(`…`) ``); a title built in a loop may be cited by its
 * template as written or by any name the template produces. Nothing outside the repository is read.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DOC = join(ROOT, "docs/reliability.md");
/** The checklist the doc embeds: the source of truth for its cases and their wording. */
const CHECKLIST = join(ROOT, "docs/reliability-checklist.md");
/**
 * The test files that cover the checklist: every test in them is cited by a row, so a new test
 * there needs a row (or a place in one).
 */
const COVERING_FILES = [
  "test/sign-in-failures.test.ts",
  "test/rotation.test.ts",
  "test/refresh-failures.test.ts",
  "test/late-answers.test.ts",
  "test/process-coordination.test.ts",
  "test/backend-cookies.test.ts",
  "test/secret-leakage.test.ts",
  "test/redirects.test.ts",
  "test/backend-logout.test.ts",
  "test/tampered-sessions.test.ts",
  "test/properties.test.ts",
  "test/session-budget.test.ts",
  "test/hostile-responses.test.ts",
];

interface Title {
  /** The title as written between the quotes (templates keep their `${…}`). */
  source: string;
  /** Matches every name the title can produce. */
  pattern: RegExp;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Test titles in a source file. */
function titlesIn(source: string): Title[] {
  const titles: Title[] = [];
  const call =
    /\b(?:it|test)(?:\.each\([^)]*\))?\s*\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)/g;
  for (const match of source.matchAll(call)) {
    const literal = match[1] ?? "";
    const body = literal.slice(1, -1);
    if (literal.startsWith("`")) {
      const parts = body.split(/\$\{[^}]*\}/);
      const text = (part: string) => escapeRegExp(part.replace(/\\(.)/g, "$1"));
      titles.push({ source: body, pattern: new RegExp(`^${parts.map(text).join(".+?")}$`, "s") });
    } else {
      const title = body.replace(/\\(.)/g, "$1");
      titles.push({ source: title, pattern: new RegExp(`^${escapeRegExp(title)}$`) });
    }
  }
  return titles;
}

/** Is `name` the title (or template) itself, or a name the title produces? */
const cites = (title: Title, name: string) => title.source === name || title.pattern.test(name);

function testFiles(): string[] {
  const files: string[] = [];
  for (const [dir, suffix] of [
    ["test", ".test.ts"],
    ["e2e", ".e2e.ts"],
  ] as const) {
    const path = join(ROOT, dir);
    if (!existsSync(path)) continue;
    for (const entry of readdirSync(path, { recursive: true, encoding: "utf8" })) {
      if (entry.endsWith(suffix)) files.push(relative(ROOT, join(path, entry)));
    }
  }
  return files;
}

interface Row {
  id: string;
  cells: string[];
  references: Array<{ name: string; file: string }>;
}

/** The checklist block: `- **ID** text` lines between the markers. */
function checklistOf(doc: string): Map<string, string> {
  const block = /<!-- checklist:start -->\n([\s\S]*?)<!-- checklist:end -->/.exec(doc)?.[1];
  if (!block) throw new Error("docs/reliability.md has no checklist block");
  const cases = new Map<string, string>();
  for (const line of block.split("\n")) {
    const match = /^- \*\*([A-Z]\d+)\*\* (.+)$/.exec(line);
    if (!match) continue;
    const [, id = "", text = ""] = match;
    if (cases.has(id)) throw new Error(`checklist id ${id} is used twice`);
    cases.set(id, text);
  }
  return cases;
}

/** Table rows `| **ID** … | … | refs |` with refs as `` `name` (`file`) `` joined by `<br>`. */
function rowsOf(doc: string): Row[] {
  return doc
    .split("\n")
    .filter((line) => /^\| \*\*[A-Z]\d+\*\*/.test(line))
    .map((line) => {
      const cells = line
        .replace(/^\|\s*|\s*\|$/g, "")
        .split(/\s+\|\s+/)
        .map((cell) => cell.trim());
      const id = /^\*\*([A-Z]\d+)\*\*/.exec(cells[0] ?? "")?.[1] ?? "";
      const references = [...(cells[2] ?? "").matchAll(/`([^`]+)` \(`([^`]+)`\)/g)].map(
        ([, name = "", file = ""]) => ({ name, file }),
      );
      return { id, cells, references };
    });
}

/** A checklist file's cases: bullet texts with continuation lines joined. */
function checklistFileCases(text: string): string[] {
  const cases: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("- ")) cases.push(line.slice(2).trim());
    else if (/^\s+\S/.test(line) && cases.length > 0) cases.push(`${cases.pop()} ${line.trim()}`);
  }
  return cases;
}

describe("docs/reliability.md", () => {
  const doc = readFileSync(DOC, "utf8");
  const checklist = checklistOf(doc);
  const rows = rowsOf(doc);
  const files = testFiles();
  const titles = new Map(
    files.map((file) => [file, titlesIn(readFileSync(join(ROOT, file), "utf8"))] as const),
  );

  it("the embedded checklist is the project's checklist, one id per case", () => {
    expect(checklist.size).toBeGreaterThan(0);
    expect([...checklist.values()]).toEqual(checklistFileCases(readFileSync(CHECKLIST, "utf8")));
  });

  it("has exactly one row per checklist case; other rows use X ids", () => {
    const ids = rows.map((row) => row.id);
    expect(new Set(ids).size, "duplicate rows").toBe(ids.length);
    for (const id of checklist.keys()) expect(ids, `no row for checklist case ${id}`).toContain(id);
    for (const id of ids) {
      expect(checklist.has(id) || /^X\d+$/.test(id), `row ${id} is not a checklist case`).toBe(
        true,
      );
    }
  });

  it("every row has a case, an expected behaviour and at least one test reference", () => {
    for (const row of rows) {
      expect(row.cells, `row ${row.id}`).toHaveLength(3);
      expect(row.cells[1]?.length, `row ${row.id} expected behaviour`).toBeGreaterThan(20);
      expect(row.references.length, `row ${row.id} cites no test`).toBeGreaterThan(0);
      const cited = (row.cells[2] ?? "").split("<br>").length;
      expect(row.references, `row ${row.id}: a reference is not \`name\` (\`file\`)`).toHaveLength(
        cited,
      );
    }
  });

  it("every cited test exists in the file it is attributed to", () => {
    for (const { id, references } of rows) {
      for (const { name, file } of references) {
        expect(files, `row ${id}: ${file} is not a test file`).toContain(file);
        const found = (titles.get(file) ?? []).some((title) => cites(title, name));
        expect(found, `row ${id}: no test "${name}" in ${file}`).toBe(true);
      }
    }
  });

  it("every test in the files that cover the checklist is cited", () => {
    const references = rows.flatMap((row) => row.references);
    for (const file of COVERING_FILES) {
      expect(files, `${file} is not a test file`).toContain(file);
      for (const title of titles.get(file) ?? []) {
        const cited = references.some((ref) => ref.file === file && cites(title, ref.name));
        expect(cited, `${file}: "${title.source}" is not in the table`).toBe(true);
      }
    }
  });

  it("the title reader understands literals, escapes and templates", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template title as written in a source
    const written = "${label}: answers ${status} fast";
    const [plain, escaped, template] = titlesIn(
      [
        'it("plain title", () => {});',
        "it('it\\'s escaped', () => {});",
        `it(\`${written}\`, async () => {});`,
      ].join("\n"),
    );
    expect(plain?.source).toBe("plain title");
    expect(escaped?.source).toBe("it's escaped");
    expect(template?.source).toBe(written);
    expect(cites(template!, "garbage: answers 500 fast")).toBe(true);
    expect(cites(template!, written)).toBe(true);
    expect(cites(template!, "garbage: answers 500 slowly")).toBe(false);
  });
});
