import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Slug } from "../../common/slug";
import { serveOrigin } from "../../origin/http/node-adapter";
import { readPageView } from "../../origin/page-view";
import { testDatabases } from "../support/databases";
import { FlushingPage } from "../support/flushing-page";
import { startTestOrigin, type TestOrigin } from "../support/origin";
import { registerAccount } from "../support/register";

/** Issue 22: a page whose text starts with #REDIRECT [[Target]] is followed one step by the page view. */
describe.each(testDatabases)("redirect pages in the page view ($name)", (database) => {
  let origin: TestOrigin;
  let served: Awaited<ReturnType<typeof serveOrigin>>;
  const id = randomUUID().slice(0, 8);
  const slug = (name: string) => `${name}_${id}` as Slug;
  const title = (name: string) => `${name} ${id}`;

  beforeAll(async () => {
    origin = await startTestOrigin(database);
    served = await serveOrigin(origin);
    const target = { url: served.url, serviceSecret: origin.serviceSecret };
    const pages: [string, string][] = [
      ["Jaime", "Ser Jaime Lannister."],
      ["Kingslayer", `#REDIRECT [[${title("Jaime")}]]`],
      ["Lord_Commander", `#redirect [[${title("kingslayer")}]]`], // a redirect to a redirect
      ["Goldenhand", `  #Redirect: [[${title("Jaime")}|the knight]]\n\nHis hand since Harrenhal.`],
      ["Young_Wolf", `#REDIRECT [[${title("Robb")}]]`], // to a page nobody wrote
      ["Ouroboros", `#REDIRECT [[${title("Ouroboros")}]]`],
      ["Oathkeeper", `A sword. See [[${title("Kingslayer")}]]; not #REDIRECT [[${title("Jaime")}]].`],
      ["Mad_King", "Burn them all."],
      ["Aerys", `#REDIRECT [[${title("Mad King")}]]`], // to a page deleted below
    ];
    for (const [name, text] of pages) await new FlushingPage(slug(name)).write(target, text);
    const admin = await registerAccount(served.url, "Tywin"); // the first account: the admin
    const deleted = await fetch(`${served.url}/api/pages/${slug("Mad_King")}/delete`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: admin },
      body: JSON.stringify({ reason: "history is written by the victors" }),
    });
    expect(deleted.status, await deleted.text()).toBe(200);
  });

  afterAll(async () => {
    await served?.close();
    await origin?.close();
  });

  async function view(name: string, options?: { followRedirect?: boolean }) {
    const shown = await readPageView(origin.db.prisma, slug(name), options);
    if (shown && "deleted" in shown) throw new Error(`${name} reads as deleted`);
    return shown;
  }

  it("shows the target of a redirect, saying where it came from", async () => {
    const shown = await view("Kingslayer");
    expect(shown).toMatchObject({ page: { slug: slug("Jaime"), text: "Ser Jaime Lannister." }, redirectedFrom: slug("Kingslayer") });
    expect(shown?.redirect).toBeUndefined();
    // Any case, a colon, a label, and a text after the redirect line.
    expect(await view("Goldenhand")).toMatchObject({ page: { slug: slug("Jaime") }, redirectedFrom: slug("Goldenhand") });
  });

  it("shows a redirect as itself when asked (?redirect=no)", async () => {
    const shown = await view("Kingslayer", { followRedirect: false });
    expect(shown).toMatchObject({ page: { slug: slug("Kingslayer") }, redirect: { target: slug("Jaime"), why: "asked", targetExists: true } });
    expect(shown?.redirectedFrom).toBeUndefined();
    expect(shown?.existingLinks).toEqual([slug("Jaime")]);
  });

  it("does not follow a double redirect: it shows the first redirect, naming both steps", async () => {
    expect(await view("Lord_Commander")).toMatchObject({
      page: { slug: slug("Lord_Commander") },
      redirect: { target: slug("Kingslayer"), why: "double", targetExists: true, next: slug("Jaime") },
    });
  });

  it("shows a redirect to a missing page as itself, its target a red link", async () => {
    const shown = await view("Young_Wolf");
    expect(shown).toMatchObject({ page: { slug: slug("Young_Wolf") }, redirect: { target: slug("Robb"), why: "missing", targetExists: false } });
    expect(shown?.existingLinks).toEqual([]);
  });

  it("shows a redirect to a deleted page as itself, as one to a missing page", async () => {
    expect(await view("Aerys")).toMatchObject({ page: { slug: slug("Aerys") }, redirect: { target: slug("Mad_King"), why: "missing", targetExists: false } });
  });

  it("does not loop on a redirect to itself", async () => {
    expect(await view("Ouroboros")).toMatchObject({ page: { slug: slug("Ouroboros") }, redirect: { why: "self" } });
  });

  it("leaves pages that only mention a redirect, and missing pages, as they were", async () => {
    const shown = await view("Oathkeeper");
    expect(shown?.page.slug).toBe(slug("Oathkeeper"));
    expect(shown?.redirect).toBeUndefined();
    expect(shown?.redirectedFrom).toBeUndefined();
    expect(await view("Nobody")).toBeNull();
  });

  it("leaves the page API as it is: a redirect page reads as its own text", async () => {
    const response = await fetch(`${served.url}/api/pages/${slug("Kingslayer")}`);
    expect(((await response.json()) as { text: string }).text).toBe(`#REDIRECT [[${title("Jaime")}]]`);
  });
});
