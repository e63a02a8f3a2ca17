import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { type FlushBatch, toBase64 } from "../protocol/flush";
import { testDatabases } from "../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../tests/support/origin";
import { refreshAllPages } from "./text-refresh";
import { handleFlush } from "./http/flush";
import {
  handleGetBacklinks,
  handleGetHistory,
  handleGetPage,
  handleGetRevision,
  handleRecentChanges,
  handleSearch,
  handleWantedPages,
} from "./http/reads";

/** A page as one edge holds it: its document and what the origin has acknowledged. */
interface EdgePage {
  slug: string;
  doc: Y.Doc;
  acknowledged: Uint8Array | undefined;
}

let nextClientID = 1;

function edgePage(slug: string): EdgePage {
  const doc = new Y.Doc();
  doc.clientID = nextClientID++;
  return { slug, doc, acknowledged: undefined };
}

function uniqueSlug(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

/** A word no other page holds, letters only so that every parser sees one word. */
function uniqueWord(prefix: string): string {
  return prefix + [...randomBytes(5)].map((byte) => String.fromCharCode(97 + (byte % 26))).join("");
}

/** Changes the page's text at the edge and flushes the change, as one revision. */
async function edit(
  origin: TestOrigin,
  page: EdgePage,
  change: (body: Y.Text) => void,
  { edits = 1, authors = ["Arya"], pop = "us-east" }: { edits?: number; authors?: string[]; pop?: string } = {},
): Promise<void> {
  change(page.doc.getText("body"));
  const batch: FlushBatch = {
    batchId: `${pop}-${randomUUID()}`,
    pop,
    edge: `${pop}-a`,
    pages: [
      {
        slug: page.slug,
        update: toBase64(Y.encodeStateAsUpdate(page.doc, page.acknowledged)),
        stateVector: toBase64(Y.encodeStateVector(page.doc)),
        editCount: edits,
        authors,
      },
    ],
  };
  const response = await handleFlush(
    origin,
    new Request("http://origin.test/api/internal/flush", {
      method: "POST",
      headers: origin.edgeHeaders,
      body: JSON.stringify(batch),
    }),
  );
  expect(response.status, await response.clone().text()).toBe(200);
  page.acknowledged = Y.encodeStateVector(page.doc);
  // Text, links, search and history follow the flushes off the flush path.
  await refreshAllPages(origin.db.prisma);
}

function replaceText(text: string): (body: Y.Text) => void {
  return (body) => {
    body.delete(0, body.length);
    body.insert(0, text);
  };
}

async function createPage(origin: TestOrigin, slug: string, text: string): Promise<EdgePage> {
  const page = edgePage(slug);
  await edit(origin, page, replaceText(text));
  return page;
}

function request(path: string): Request {
  return new Request(`http://origin.test${path}`);
}

async function read<T>(response: Promise<Response>, status = 200): Promise<T> {
  const answered = await response;
  const body: unknown = await answered.json();
  expect(answered.status, JSON.stringify(body)).toBe(status);
  return body as T;
}

interface ErrorBody {
  error: string;
  message: string;
}

interface RevisionBody {
  number: number;
  createdAt: string;
  updatedAt: string;
  authors: string[];
  editCount: number;
  pops: string[];
  bytes: number;
  text?: string;
}

interface ChangeBody {
  slug: string;
  title: string;
  revision: number;
  updatedAt: string;
  authors: string[];
  editCount: number;
  pops: string[];
}

interface SearchBody {
  query: string;
  results: { slug: string; title: string; snippet: string; updatedAt: string }[];
}

interface WantedBody {
  pages: { slug: string; title: string; linkCount: number }[];
}

// Timestamps have millisecond precision: a pause keeps consecutive flushes apart.
const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

describe.each(testDatabases)("reading the wiki on $name", (kind) => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await origin?.close();
  });

  const search = (query: string) => read<SearchBody>(handleSearch(origin, request(`/api/search?q=${encodeURIComponent(query)}`)));
  const wanted = () => read<WantedBody>(handleWantedPages(origin, request("/api/wanted-pages?limit=500")));

  it("a page reads back as exactly its slug, title, text, revision, update time, protection and version", async () => {
    const slug = uniqueSlug("Winterfell");
    const started = Date.now();
    const page = await createPage(origin, slug, "Winter is coming.");
    await edit(origin, page, (body) => body.insert(body.length, " The North remembers."), { authors: ["Bran"] });

    const body = await read<Record<string, unknown>>(handleGetPage(origin, request(`/api/pages/${slug}`), { slug }));
    expect(Object.keys(body).sort()).toEqual(["protection", "revision", "slug", "text", "title", "updatedAt", "version"]);
    expect(body).toMatchObject({
      slug,
      title: slug.replaceAll("_", " "),
      text: "Winter is coming. The North remembers.",
      revision: 2,
      protection: "none",
      // Two flushes: the newest one the text includes (the count edges' reads call revision).
      version: 2,
    });
    const updatedAt = Date.parse(body.updatedAt as string);
    expect(updatedAt).toBeGreaterThanOrEqual(started - 1000);
    expect(updatedAt).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it("a missing page is a 404 naming it", async () => {
    const slug = uniqueSlug("Nowhere");
    const body = await read<ErrorBody>(handleGetPage(origin, request(`/api/pages/${slug}`), { slug }), 404);
    expect(body.error).toBe("not_found");
    expect(body.message).toContain(slug);
  });

  it("a bad slug is a 400 on every page endpoint", async () => {
    for (const slug of ["lower_case", "Has space", "A<script>", "Trailing_", ""]) {
      const path = `/api/pages/${encodeURIComponent(slug)}`;
      const answers = [
        handleGetPage(origin, request(path), { slug }),
        handleGetHistory(origin, request(`${path}/history`), { slug }),
        handleGetRevision(origin, request(`${path}/revisions/1`), { slug, number: "1" }),
        handleGetBacklinks(origin, request(`${path}/backlinks`), { slug }),
      ];
      for (const answer of answers) {
        const body = await read<ErrorBody>(answer, 400);
        expect(body.error).toBe("bad_request");
        expect(body.message).toMatch(/^slug: /);
      }
    }
  });

  it("history lists revisions newest first with their edit counts, authors, PoPs and sizes", async () => {
    const slug = uniqueSlug("Harrenhal");
    const page = edgePage(slug);
    await edit(origin, page, replaceText("Black Harren built it."), { edits: 3, authors: ["Arya"], pop: "us-east" });
    await edit(origin, page, (body) => body.insert(body.length, " Dragonfire melted it."), {
      edits: 12,
      authors: ["Bran", "Sansa"],
      pop: "eu-west",
    });
    await edit(origin, page, (body) => body.insert(0, "Ærys: "), { edits: 1, authors: ["Jon"], pop: "us-east" });

    const { slug: answeredSlug, revisions } = await read<{ slug: string; revisions: RevisionBody[] }>(
      handleGetHistory(origin, request(`/api/pages/${slug}/history`), { slug }),
    );
    expect(answeredSlug).toBe(slug);
    expect(revisions.map(({ number, editCount, authors, pops }) => ({ number, editCount, authors, pops }))).toEqual([
      { number: 3, editCount: 1, authors: ["Jon"], pops: ["us-east"] },
      { number: 2, editCount: 12, authors: ["Bran", "Sansa"], pops: ["eu-west"] },
      { number: 1, editCount: 3, authors: ["Arya"], pops: ["us-east"] },
    ]);
    // Sizes are UTF-8 bytes: "Æ" is two.
    expect(revisions.map((revision) => revision.bytes)).toEqual([
      Buffer.byteLength("Ærys: Black Harren built it. Dragonfire melted it."),
      Buffer.byteLength("Black Harren built it. Dragonfire melted it."),
      Buffer.byteLength("Black Harren built it."),
    ]);
    for (const revision of revisions) {
      expect(revision.text).toBeUndefined();
      expect(new Date(revision.createdAt).toISOString()).toBe(revision.createdAt);
      expect(Date.parse(revision.updatedAt)).toBeGreaterThanOrEqual(Date.parse(revision.createdAt));
    }
    expect(Date.parse(revisions[0]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(revisions[2]!.createdAt));
  });

  it("history pages back with limit and before", async () => {
    const slug = uniqueSlug("Pyke");
    const page = edgePage(slug);
    // Four people, so four revisions: one person's consecutive flushes would be one.
    for (const [word, author] of [["We", "Balon"], [" do", "Theon"], [" not", "Yara"], [" sow.", "Euron"]] as const) {
      await edit(origin, page, (body) => body.insert(body.length, word), { authors: [author] });
    }

    const history = (query: string) =>
      read<{ revisions: RevisionBody[] }>(handleGetHistory(origin, request(`/api/pages/${slug}/history${query}`), { slug }));
    expect((await history("?limit=2")).revisions.map((revision) => revision.number)).toEqual([4, 3]);
    expect((await history("?limit=2&before=3")).revisions.map((revision) => revision.number)).toEqual([2, 1]);
    expect((await history("?before=1")).revisions).toEqual([]);
  });

  it("one revision holds the page's text as it was then", async () => {
    const slug = uniqueSlug("Casterly_Rock");
    const page = await createPage(origin, slug, "A Lannister always pays his debts.");
    await edit(origin, page, replaceText("Hear me roar!"), { edits: 4, authors: ["Tyrion"] });

    const revision = (number: number) =>
      read<RevisionBody & { slug: string }>(
        handleGetRevision(origin, request(`/api/pages/${slug}/revisions/${number}`), { slug, number: String(number) }),
      );
    const first = await revision(1);
    expect(first).toMatchObject({ slug, number: 1, text: "A Lannister always pays his debts.", authors: ["Arya"], editCount: 1 });
    expect(first.bytes).toBe("A Lannister always pays his debts.".length);
    expect(await revision(2)).toMatchObject({ number: 2, text: "Hear me roar!", authors: ["Tyrion"], editCount: 4 });
  });

  it("a missing revision is a 404, and so is any revision of a missing page", async () => {
    const slug = uniqueSlug("Dragonstone");
    await createPage(origin, slug, "Dracarys.");

    const missingRevision = await read<ErrorBody>(
      handleGetRevision(origin, request(`/api/pages/${slug}/revisions/9`), { slug, number: "9" }),
      404,
    );
    expect(missingRevision.error).toBe("not_found");
    expect(missingRevision.message).toMatch(new RegExp(`${slug} has no revision 9: its revisions are 1 to 1`));

    const nowhere = uniqueSlug("Valyria");
    const missingPage = await read<ErrorBody>(
      handleGetRevision(origin, request(`/api/pages/${nowhere}/revisions/1`), { slug: nowhere, number: "1" }),
      404,
    );
    expect(missingPage.message).toContain(nowhere);
    await read<ErrorBody>(handleGetHistory(origin, request(`/api/pages/${nowhere}/history`), { slug: nowhere }), 404);
  });

  it("a bad limit or revision number is a 400 naming the parameter", async () => {
    const slug = uniqueSlug("Oldtown");
    await createPage(origin, slug, "The Citadel.");
    const refusals: [Promise<Response>, RegExp][] = [
      [handleGetHistory(origin, request(`/api/pages/${slug}/history?limit=abc`), { slug }), /^limit: .*"abc"/],
      [handleGetHistory(origin, request(`/api/pages/${slug}/history?limit=0`), { slug }), /^limit: must be an integer from 1 to 500/],
      [handleGetHistory(origin, request(`/api/pages/${slug}/history?limit=501`), { slug }), /^limit: /],
      [handleGetHistory(origin, request(`/api/pages/${slug}/history?limit=2.5`), { slug }), /^limit: /],
      [handleGetHistory(origin, request(`/api/pages/${slug}/history?before=-1`), { slug }), /^before: /],
      [handleGetRevision(origin, request(`/api/pages/${slug}/revisions/first`), { slug, number: "first" }), /^number: /],
      [handleGetRevision(origin, request(`/api/pages/${slug}/revisions/0`), { slug, number: "0" }), /^number: /],
      [handleRecentChanges(origin, request("/api/recent-changes?limit=-5")), /^limit: /],
      [handleRecentChanges(origin, request("/api/recent-changes?since=yesterday")), /^since: .*ISO 8601/],
      [handleSearch(origin, request("/api/search?q=citadel&limit=1000")), /^limit: must be an integer from 1 to 100/],
      [handleWantedPages(origin, request("/api/wanted-pages?limit=")), /^limit: /],
    ];
    for (const [answer, message] of refusals) {
      const body = await read<ErrorBody>(answer, 400);
      expect(body.error).toBe("bad_request");
      expect(body.message).toMatch(message);
    }
  });

  it("recent changes list the wiki's revisions newest first", async () => {
    const since = new Date(Date.now() - 1);
    const a = edgePage(uniqueSlug("Braavos"));
    const b = edgePage(uniqueSlug("Pentos"));
    await edit(origin, a, replaceText("Valar morghulis."), { edits: 2, authors: ["Arya"], pop: "eu-west" });
    await pause();
    await edit(origin, b, replaceText("Cheese."), { edits: 5, authors: ["Illyrio"] });
    await pause();
    await edit(origin, a, (body) => body.insert(body.length, " Valar dohaeris."), { edits: 1, authors: ["Jaqen"] });

    const { changes } = await read<{ changes: ChangeBody[] }>(
      handleRecentChanges(origin, request(`/api/recent-changes?since=${since.toISOString()}`)),
    );
    const ours = changes.filter((change) => change.slug === a.slug || change.slug === b.slug);
    expect(ours.map(({ slug, revision, editCount, authors, pops }) => ({ slug, revision, editCount, authors, pops }))).toEqual([
      { slug: a.slug, revision: 2, editCount: 1, authors: ["Jaqen"], pops: ["us-east"] },
      { slug: b.slug, revision: 1, editCount: 5, authors: ["Illyrio"], pops: ["us-east"] },
      { slug: a.slug, revision: 1, editCount: 2, authors: ["Arya"], pops: ["eu-west"] },
    ]);
    expect(ours[0]!.title).toBe(a.slug.replaceAll("_", " "));
    const times = changes.map((change) => Date.parse(change.updatedAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));

    const latest = await read<{ changes: ChangeBody[] }>(handleRecentChanges(origin, request("/api/recent-changes?limit=1")));
    expect(latest.changes).toHaveLength(1);
    expect(latest.changes[0]).toMatchObject({ slug: a.slug, revision: 2 });
  });

  it("recent changes since an instant leave out what came before it", async () => {
    const early = edgePage(uniqueSlug("Qarth"));
    await edit(origin, early, replaceText("The House of the Undying."));
    await pause();
    const since = new Date();
    await pause();
    const late = edgePage(uniqueSlug("Meereen"));
    await edit(origin, late, replaceText("Breaker of chains."));

    const { changes } = await read<{ changes: ChangeBody[] }>(
      handleRecentChanges(origin, request(`/api/recent-changes?since=${since.toISOString()}`)),
    );
    expect(changes.map((change) => change.slug)).toContain(late.slug);
    expect(changes.map((change) => change.slug)).not.toContain(early.slug);
  });

  it("search finds a page by a word of its text", async () => {
    const word = uniqueWord("wyrm");
    const slug = uniqueSlug("Search_target");
    await createPage(origin, slug, `The maesters wrote of a ${word} beyond the Wall, and nothing else.`);

    const { query, results } = await search(word);
    expect(query).toBe(word);
    expect(results.map((result) => result.slug)).toEqual([slug]);
    expect(results[0]!.title).toBe(slug.replaceAll("_", " "));
    expect(results[0]!.snippet).toContain(`<mark>${word}</mark>`);
  });

  it("a search snippet escapes HTML from the page and marks only the matched word", async () => {
    const slug = uniqueSlug("Script_page");
    await createPage(
      origin,
      slug,
      `<script>alert(1)</script> dragon <img src=x onerror="alert('x')"> & <b>bold</b>`,
    );

    const { results } = await search("dragon");
    const hit = results.find((result) => result.slug === slug);
    expect(hit, JSON.stringify(results)).toBeDefined();
    const snippet = hit!.snippet;
    expect(snippet).toContain("<mark>dragon</mark>");
    expect(snippet).not.toContain("<script");
    // The page's markup is shown as text (a fragment may start after the
    // first "&lt;", as it starts on a word).
    expect(snippet).toContain("&lt;/script&gt;");
    expect(snippet).toContain("&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;");
    // Once the marks are gone no markup may be left: every <, >, " and ' is an entity.
    const unmarked = snippet.replaceAll("<mark>", "").replaceAll("</mark>", "");
    expect(unmarked).not.toMatch(/[<>"']/);
    expect(unmarked).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
  });

  it("search finds a page by its title even when its words are stop words", async () => {
    await createPage(origin, "The_Who", "A band that is not in Westeros.");
    await createPage(origin, uniqueSlug("Concert"), "They saw The Who live.");

    const { results } = await search("the who");
    expect(results[0]?.slug).toBe("The_Who");
  });

  it("search puts a page whose title holds the word above pages whose text does", async () => {
    const word = uniqueWord("sept");
    const titled = `Great_${word}`;
    await createPage(origin, uniqueSlug("Mention"), `Once, the ${word} burned.`);
    await createPage(origin, titled, "Baelor built it.");

    const { results } = await search(word);
    expect(results.map((result) => result.slug)[0]).toBe(titled);
    expect(results).toHaveLength(2);
  });

  it("an empty or blank search is a 400", async () => {
    for (const path of ["/api/search", "/api/search?q=", "/api/search?q=%20%20%09"]) {
      const body = await read<ErrorBody>(handleSearch(origin, request(path)), 400);
      expect(body.error).toBe("bad_request");
      expect(body.message).toMatch(/^q: /);
    }
  });

  it("a [[Link]] to a missing page shows up as wanted", async () => {
    const target = uniqueSlug("Missing");
    const title = target.replaceAll("_", " ");
    await createPage(origin, uniqueSlug("Linker"), `See [[${title}]].`);
    await createPage(origin, uniqueSlug("Other_linker"), `Also [[${title}|the missing page]] and [[${title}]] again.`);

    const before = await wanted();
    expect(before.pages.find((page) => page.slug === target)).toEqual({ slug: target, title, linkCount: 2 });

    await createPage(origin, target, "Here at last.");
    const after = await wanted();
    expect(after.pages.map((page) => page.slug)).not.toContain(target);
  });

  it("wanted pages come most linked first", async () => {
    const once = uniqueSlug("Wanted_once");
    const thrice = uniqueSlug("Wanted_thrice");
    for (let i = 0; i < 3; i++) {
      await createPage(origin, uniqueSlug("Wanting"), i === 0 ? `[[${once}]] [[${thrice}]]` : `[[${thrice}]]`);
    }
    const slugs = (await wanted()).pages.map((page) => page.slug);
    expect(slugs.indexOf(thrice)).toBeGreaterThanOrEqual(0);
    expect(slugs.indexOf(thrice)).toBeLessThan(slugs.indexOf(once));
  });

  it("backlinks list the pages that link to a page, and forget a link once it is removed", async () => {
    const target = uniqueSlug("Kings_Landing");
    await createPage(origin, target, "The capital.");
    const first = await createPage(origin, `Aegon_${randomUUID().slice(0, 8)}`, `He founded [[${target}]].`);
    const second = await createPage(origin, `Baelor_${randomUUID().slice(0, 8)}`, `He prayed in [[${target}|the city]].`);
    await createPage(origin, uniqueSlug("Unrelated"), "No links here.");

    type BacklinksBody = { slug: string; backlinks: { slug: string; title: string }[] };
    const backlinksOf = (slug: string) =>
      read<BacklinksBody>(handleGetBacklinks(origin, request(`/api/pages/${slug}/backlinks`), { slug }));
    expect(await backlinksOf(target)).toEqual({
      slug: target,
      backlinks: [
        { slug: first.slug, title: first.slug.replaceAll("_", " ") },
        { slug: second.slug, title: second.slug.replaceAll("_", " ") },
      ],
    });

    await edit(origin, first, replaceText("He founded a city."));
    expect((await backlinksOf(target)).backlinks.map((page) => page.slug)).toEqual([second.slug]);
  });
});
