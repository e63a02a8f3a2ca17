-- Search gets a table of its own, refreshed on a longer bound than the
-- page's text (origin/search-refresh.ts). Until now every text refresh of a
-- page rewrote the generated "searchVector" (its TOAST as large as the text)
-- and re-inserted every distinct word of the page into the GIN index, whose
-- pending list is later folded into the tree at several times that cost: on
-- a hot page of ~10,000 distinct words about 1.4 MB of WAL per refresh,
-- refreshed every 30 s.
-- The index is over an expression, not a stored tsvector column: the text is
-- stored once, and Postgres computes the vector when it indexes a row and for
-- the hits of a search. weirwood_search_document() is that expression, in one
-- place for the index and the queries (origin/search.ts), which must match it
-- for the planner to use the index. Prisma does not describe expression
-- indexes or functions, so `npm run db:diff` leaves both alone.
-- Existing pages are copied as they are, so search keeps finding them.
-- No semicolons in comments (see the init migration).

-- DropIndex
DROP INDEX "Page_searchVector_idx";

-- AlterTable
ALTER TABLE "Page" DROP COLUMN "searchVector";

-- CreateTable
CREATE TABLE "PageSearch" (
    "pageId" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "textSeq" BIGINT NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "PageSearch_pkey" PRIMARY KEY ("pageId")
);

-- AddForeignKey
ALTER TABLE "PageSearch" ADD CONSTRAINT "PageSearch_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The title weighs more than the text in ts_rank.
CREATE FUNCTION weirwood_search_document(title TEXT, body TEXT) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce(body, '')), 'B') $$;

CREATE INDEX "PageSearch_document_idx" ON "PageSearch" USING gin (weirwood_search_document("title", "text"));

INSERT INTO "PageSearch" ("pageId", "title", "text", "textSeq", "updatedAt")
SELECT "id", "title", "text", "textSeq", CURRENT_TIMESTAMP FROM "Page";
