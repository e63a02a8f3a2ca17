import { describe, expect, it } from "vitest";
import { pageHref, renderMarkdown, renderSearchSnippet } from "./markdown";

const existingPages = new Set(["Winterfell", "The_Wall"]);

function render(text: string): string {
  return renderMarkdown(text, { existingPages });
}

/** Every attribute of every tag in `html`, as `tag attr="value"` strings. */
function attributesOf(html: string): string[] {
  return [...html.matchAll(/<([a-z0-9]+)((?:\s+[^\s=>]+(?:="[^"]*")?)*)\s*\/?>/giu)].flatMap(([, tag, attrs]) =>
    [...(attrs ?? "").matchAll(/([^\s=]+)(?:="([^"]*)")?/gu)].map(([, name, value]) => `${tag} ${name}="${value ?? ""}"`),
  );
}

function expectInert(html: string): void {
  expect(html).not.toMatch(/<\s*(script|iframe|object|embed|svg|math|form|input|style|link|meta|base)\b/iu);
  for (const attribute of attributesOf(html)) {
    expect(attribute).not.toMatch(/^\S+ on/iu);
    expect(attribute).not.toMatch(/^\S+ (href|src)="\s*(javascript|vbscript|data|file):/iu);
    expect(attribute).not.toMatch(/^\S+ style="(?!text-align:(left|right|center)"$)/iu);
  }
}

describe("markdown rendering: what a writer types cannot run", () => {
  it("drops script elements with their content", () => {
    const html = render("before <script>alert(1)</script> after\n\n<script src=https://evil.example/x.js></script>");
    expectInert(html);
    expect(html).not.toContain("alert(1)");
    expect(html).toContain("before");
    expect(html).toContain("after");
  });

  it("keeps an image but not its onerror handler", () => {
    const html = render('<img src="x" onerror="alert(1)">\n\n<img src=y onload=alert(2) onmouseover="alert(3)">');
    expectInert(html);
    expect(html).toContain('<img src="x" />');
    expect(html).not.toContain("alert");
  });

  it("removes javascript: URLs from Markdown links, HTML links and their disguises", () => {
    const html = render(
      [
        "[md](javascript:alert(1))",
        '<a href="javascript:alert(2)">raw</a>',
        '<a href="JaVaScRiPt:alert(3)">case</a>',
        '<a href="  javascript:alert(4)">spaces</a>',
        '<a href="&#106;avascript:alert(5)">entity</a>',
        '<a href="java&#x09;script:alert(6)">tab</a>',
        '<a href="vbscript:msgbox(7)">vb</a>',
        "[ref][x]\n\n[x]: javascript:alert(8)",
      ].join("\n\n"),
    );
    expectInert(html);
    expect(html).not.toMatch(/href="[^"]*script/iu);
  });

  it("removes data: URLs from links and images", () => {
    const html = render(
      '[d](data:text/html,<script>alert(1)</script>) ![i](data:image/svg+xml;base64,PHN2Zz4=) <a href="data:text/html,x">a</a> <img src="data:image/png;base64,AAAA">',
    );
    expectInert(html);
    expect(html).not.toMatch(/(href|src)="data:/u);
    expect(html).toContain("<a>a</a>");
  });

  it("drops svg and math with their handlers", () => {
    const html = render('<svg onload="alert(1)"><circle r="5"/></svg>\n\n<math><mtext onclick="alert(2)">x</mtext></math>');
    expectInert(html);
    expect(html).not.toContain("alert");
  });

  it("drops style attributes and style elements", () => {
    const html = render(
      '<p style="position:fixed;inset:0;background:url(javascript:alert(1))">cover</p>\n\n<style>body{display:none}</style>\n\n<span style="color:red">red</span>',
    );
    expectInert(html);
    expect(html).not.toContain("style");
    expect(html).toContain("cover");
  });

  it("keeps table alignment, the one style markdown-it writes", () => {
    const html = render("| a | b |\n|--:|:-:|\n| 1 | 2 |");
    expect(html).toContain('<th style="text-align:right">a</th>');
    expect(html).toContain('<td style="text-align:center">2</td>');
    expect(render('<td style="text-align:right;color:red">x</td>')).not.toContain("color");
  });

  it("drops iframes, forms, objects and base elements", () => {
    const html = render(
      '<iframe src="https://evil.example"></iframe><form action="/api/auth/logout" method="post"><button>go</button></form><object data="x.swf"></object><base href="https://evil.example/">',
    );
    expectInert(html);
  });

  it("keeps ordinary Markdown: headings, emphasis, lists, code, outside links", () => {
    const html = render("# Title\n\n*em* **strong** ~~gone~~\n\n- one\n- two\n\n```js\nlet x = '<b>';\n```\n\n[site](https://example.org)");
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain("<em>em</em> <strong>strong</strong> <s>gone</s>");
    expect(html).toContain("<li>one</li>");
    expect(html).toContain('<code class="language-js">let x = \'&lt;b&gt;\';');
    expect(html).toContain('<a href="https://example.org" rel="nofollow ugc noopener">site</a>');
  });
});

describe("markdown rendering: wiki links", () => {
  it("links [[Title]] to the page's path", () => {
    expect(render("See [[Winterfell]].")).toBe(
      '<p>See <a href="/wiki/Winterfell" class="wikilink" title="Winterfell">Winterfell</a>.</p>\n',
    );
  });

  it("maps a title to its slug and keeps the label as typed", () => {
    expect(render("[[the Wall|the great wall]]")).toContain(
      '<a href="/wiki/The_Wall" class="wikilink" title="The Wall">the great wall</a>',
    );
  });

  it("makes a link to a page that does not exist red, pointing at its editor", () => {
    expect(render("[[Castle Black]]")).toContain(
      '<a href="/wiki/Castle_Black/edit" class="wikilink new" title="Castle Black (page does not exist)">Castle Black</a>',
    );
  });

  it("escapes a label and encodes a target", () => {
    const html = render("[[Winterfell|<img src=x onerror=alert(1)>]] [[What? No]] [[Ned's \"sword\"]]");
    expectInert(html);
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;</a>");
    expect(html).toContain('href="/wiki/Ned\'s_%22sword%22/edit"');
    // "?" may not be in a title: left as text, as the origin's link table does.
    expect(html).toContain("[[What? No]]");
  });

  it("keeps a labelled link in a table cell whole, with or without an escaped pipe", () => {
    const html = render("| House | Seat |\n|--|--|\n| Stark | [[Winterfell|the North]] |\n| Night's Watch | [[The Wall\\|Castle Black]] |");
    expect(html).toContain('<td><a href="/wiki/Winterfell" class="wikilink" title="Winterfell">the North</a></td>');
    expect(html).toContain('<td><a href="/wiki/The_Wall" class="wikilink" title="The Wall">Castle Black</a></td>');
    expect(html.match(/<td>/gu)).toHaveLength(4);
  });

  it("reads [[Target\\|label]] outside tables as a labelled link too", () => {
    expect(render("[[Winterfell\\|home]] and [[Winterfell|home]]")).toBe(
      '<p><a href="/wiki/Winterfell" class="wikilink" title="Winterfell">home</a> and <a href="/wiki/Winterfell" class="wikilink" title="Winterfell">home</a></p>\n',
    );
  });

  it("leaves wiki links inside code alone", () => {
    expect(render("`[[Winterfell]]`")).toBe("<p><code>[[Winterfell]]</code></p>\n");
  });

  it("builds page paths with actions", () => {
    expect(pageHref("Jon_Snow")).toBe("/wiki/Jon_Snow");
    expect(pageHref("Jon_Snow", "history")).toBe("/wiki/Jon_Snow/history");
    expect(pageHref("A:B")).toBe("/wiki/A%3AB");
  });
});

describe("search snippets", () => {
  it("keep <mark> and the origin's escaping, and nothing else", () => {
    expect(renderSearchSnippet("a &lt;script&gt; <mark>wolf</mark>")).toBe("a &lt;script&gt; <mark>wolf</mark>");
    const snippet = renderSearchSnippet('<b>x</b><mark onclick="alert(1)">y</mark><img src=x onerror=alert(1)>');
    expect(snippet).toMatch(/^&lt;b&gt;x&lt;\/b&gt;<mark>y<\/mark>&lt;img/u);
    expect(snippet).not.toMatch(/<(?!\/?mark>)/u);
  });
});
