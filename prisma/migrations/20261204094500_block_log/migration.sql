-- The block log: every block and unblock, kept after the block ends, is
-- lifted or the accounts are deleted (so names, not foreign keys), as
-- MediaWiki's Special:Log/block. UserBlock holds only what is in force.

-- CreateTable
CREATE TABLE "BlockLogEntry" (
    "id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "userName" TEXT NOT NULL,
    "byName" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "expiresAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BlockLogEntry_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BlockLogEntry_createdAt_idx" ON "BlockLogEntry"("createdAt");
