-- CreateEnum
CREATE TYPE "Role" AS ENUM ('reader', 'editor', 'admin');

-- CreateEnum
CREATE TYPE "Protection" AS ENUM ('none', 'admin');

-- CreateTable
CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "nameKey" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL DEFAULT 'editor',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Page" (
    "id" UUID NOT NULL,
    "slug" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "state" BYTEA NOT NULL,
    "stateVector" BYTEA NOT NULL,
    "text" TEXT NOT NULL DEFAULT '',
    "protection" "Protection" NOT NULL DEFAULT 'none',
    "protectedById" UUID,
    "revisionCount" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    -- HAND-EDITED (Prisma wrote `"searchVector" tsvector,`): Prisma's schema
    -- language cannot declare a generated column. Postgres keeps this one up to
    -- date from "title" (weight A) and "text" (weight B). The app never writes
    -- it, it searches it (`"searchVector" @@ websearch_to_tsquery('english', $1)`)
    -- through the GIN index "Page_searchVector_idx" below. schema.prisma marks
    -- the field `@default(dbgenerated())` so that Prisma Migrate leaves the
    -- expression alone, and `npm run db:diff` reports no difference.
    -- No semicolons in comments: @prisma/adapter-pg's executeScript (used when
    -- Prisma's engine applies migrations through the pg adapter) splits a
    -- script at every semicolon, comments included.
    "searchVector" tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', coalesce("title", '')), 'A') || setweight(to_tsvector('english', coalesce("text", '')), 'B')) STORED,

    CONSTRAINT "Page_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Revision" (
    "id" UUID NOT NULL,
    "pageId" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "diff" BYTEA NOT NULL,
    "editCount" INTEGER NOT NULL,
    "authors" TEXT[],
    "pop" TEXT NOT NULL,
    "batchId" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Revision_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Batch" (
    "id" TEXT NOT NULL,
    "pop" TEXT NOT NULL,
    "edge" TEXT NOT NULL,
    "pageCount" INTEGER NOT NULL,
    "editCount" INTEGER NOT NULL,
    "bytes" INTEGER NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Batch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Link" (
    "fromId" UUID NOT NULL,
    "toSlug" TEXT NOT NULL,

    CONSTRAINT "Link_pkey" PRIMARY KEY ("fromId","toSlug")
);

-- CreateTable
CREATE TABLE "PopCheckpoint" (
    "pop" TEXT NOT NULL,
    "pageId" UUID NOT NULL,
    "sequence" BIGINT NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PopCheckpoint_pkey" PRIMARY KEY ("pop","pageId")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_nameKey_key" ON "User"("nameKey");

-- CreateIndex
CREATE UNIQUE INDEX "Page_slug_key" ON "Page"("slug");

-- CreateIndex
CREATE INDEX "Page_updatedAt_idx" ON "Page"("updatedAt");

-- CreateIndex
CREATE INDEX "Page_searchVector_idx" ON "Page" USING GIN ("searchVector");

-- CreateIndex
CREATE INDEX "Revision_createdAt_idx" ON "Revision"("createdAt");

-- CreateIndex
CREATE INDEX "Revision_batchId_idx" ON "Revision"("batchId");

-- CreateIndex
CREATE UNIQUE INDEX "Revision_pageId_number_key" ON "Revision"("pageId", "number");

-- CreateIndex
CREATE INDEX "Batch_receivedAt_idx" ON "Batch"("receivedAt");

-- CreateIndex
CREATE INDEX "Link_toSlug_idx" ON "Link"("toSlug");

-- AddForeignKey
ALTER TABLE "Page" ADD CONSTRAINT "Page_protectedById_fkey" FOREIGN KEY ("protectedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Revision" ADD CONSTRAINT "Revision_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Revision" ADD CONSTRAINT "Revision_batchId_fkey" FOREIGN KEY ("batchId") REFERENCES "Batch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Link" ADD CONSTRAINT "Link_fromId_fkey" FOREIGN KEY ("fromId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PopCheckpoint" ADD CONSTRAINT "PopCheckpoint_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;
