"use client";

import Link from "next/link";
import { contributionsHref } from "../lists/AuthorLinks";
import { LogoutButton } from "./LogoutButton";
import { PopSelector } from "./PopSelector";
import { useViewer } from "./ViewerContext";

/**
 * The wiki's header: home, the wiki-wide pages, search, the PoP, who is
 * logged in. Who it is comes after load (ViewerContext): until then neither
 * a name nor "Log in" shows.
 */
export function SiteHeader() {
  const { state } = useViewer();
  const user = state.known ? state.user : null;
  return (
    <header className="site-header">
      <div className="site-header-inner">
        <Link href="/" className="brand">
          Weirwood
        </Link>
        <nav className="site-nav" aria-label="Wiki">
          <Link href="/recent-changes">Recent changes</Link>
          <Link href="/wanted-pages">Wanted pages</Link>
          {user ? <Link href="/watchlist">Watchlist</Link> : null}
          {user && user.role !== "reader" ? <Link href="/new">New page</Link> : null}
          {user?.role === "admin" ? <Link href="/ops">Operations</Link> : null}
          {user?.role === "admin" ? <Link href="/admin/blocks">Blocks</Link> : null}
          {user?.role === "admin" ? <Link href="/admin/deletions">Deletions</Link> : null}
        </nav>
        <form action="/search" method="get" className="search-form" role="search">
          <input type="search" name="q" placeholder="Search the wiki" aria-label="Search the wiki" />
        </form>
        <div className="site-user">
          <PopSelector />
          {!state.known ? null : user ? (
            <>
              <span className="who" data-testid="who">
                <Link href={contributionsHref(user.name)} title="Your contributions">
                  {user.name}
                </Link>
                {user.role !== "editor" ? <span className="badge">{user.role}</span> : null}
              </span>
              <LogoutButton />
            </>
          ) : (
            <>
              <Link href="/login">Log in</Link>
              <Link href="/register">Register</Link>
            </>
          )}
        </div>
      </div>
    </header>
  );
}
