-- Moving (renaming) a page: the page keeps its row, history and Yjs
-- document under its new slug, and its old slug becomes an alias of it
-- (PageAlias): links and URLs to the old name land on the page, and a flush
-- an edge sends under the old name (edits it acknowledged before it heard of
-- the move) is merged into the page (origin/merge.ts). PageMove is the move
-- log, kept when an alias goes (a move back). Names, not user references,
-- so the log outlives accounts (origin/moves.ts).

-- CreateTable
CREATE TABLE "PageAlias" (
    "slug" TEXT NOT NULL,
    "pageId" UUID NOT NULL,

    CONSTRAINT "PageAlias_pkey" PRIMARY KEY ("slug")
);

-- CreateTable
CREATE TABLE "PageMove" (
    "id" UUID NOT NULL,
    "pageId" UUID NOT NULL,
    "fromSlug" TEXT NOT NULL,
    "toSlug" TEXT NOT NULL,
    "byName" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PageMove_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PageAlias_pageId_idx" ON "PageAlias"("pageId");

-- CreateIndex
CREATE INDEX "PageMove_pageId_createdAt_idx" ON "PageMove"("pageId", "createdAt");

-- AddForeignKey
ALTER TABLE "PageAlias" ADD CONSTRAINT "PageAlias_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PageMove" ADD CONSTRAINT "PageMove_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;
