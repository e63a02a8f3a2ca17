-- Incremental page storage. A flush appends what it added to a page as a
-- "PageUpdate" row instead of rewriting the page, its text and search vector
-- and a full-text revision. Compaction folds the rows into "Page"."state" off
-- the flush path, and a revision is a unit of history holding a snapshot or a
-- delta of its text.
-- Existing data keeps working: every page's state becomes its compacted base
-- (baseSeq 0, no rows yet), and every existing revision keeps its full text as
-- a snapshot.
-- No semicolons in comments (see the init migration).

-- DropForeignKey
ALTER TABLE "Revision" DROP CONSTRAINT "Revision_batchId_fkey";

-- DropIndex
DROP INDEX "Revision_batchId_idx";

-- DropIndex
DROP INDEX "Revision_createdAt_idx";

-- AlterTable
ALTER TABLE "Page" ADD COLUMN     "baseSeq" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "textSeq" BIGINT NOT NULL DEFAULT 0;

-- AlterTable: the new columns first, filled from the old ones, then the old ones go.
ALTER TABLE "Revision" ADD COLUMN     "bytes" INTEGER,
ADD COLUMN     "delta" TEXT,
ADD COLUMN     "lastSeq" BIGINT,
ADD COLUMN     "pops" TEXT[],
ADD COLUMN     "snapshot" TEXT,
ADD COLUMN     "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

UPDATE "Revision"
SET "snapshot" = "text", "bytes" = octet_length("text"), "pops" = ARRAY["pop"], "lastSeq" = 0, "updatedAt" = "createdAt";

ALTER TABLE "Revision" ALTER COLUMN "bytes" SET NOT NULL,
ALTER COLUMN "lastSeq" SET NOT NULL;

ALTER TABLE "Revision" DROP COLUMN "batchId",
DROP COLUMN "diff",
DROP COLUMN "pop",
DROP COLUMN "text";

-- CreateTable
CREATE TABLE "PageUpdate" (
    "pageId" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "update" BYTEA NOT NULL,
    "editCount" INTEGER NOT NULL,
    "authors" TEXT[],
    "pop" TEXT NOT NULL,
    "batchId" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PageUpdate_pkey" PRIMARY KEY ("pageId","seq")
);

-- CreateIndex
CREATE INDEX "Revision_updatedAt_idx" ON "Revision"("updatedAt");

-- AddForeignKey
ALTER TABLE "PageUpdate" ADD CONSTRAINT "PageUpdate_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;
