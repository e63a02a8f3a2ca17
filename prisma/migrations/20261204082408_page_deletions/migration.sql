-- CreateEnum
CREATE TYPE "DeletionAction" AS ENUM ('delete', 'undelete');

-- AlterTable
ALTER TABLE "Page" ADD COLUMN     "deletedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "PageDeletion" (
    "id" UUID NOT NULL,
    "pageId" UUID NOT NULL,
    "action" "DeletionAction" NOT NULL,
    "reason" TEXT NOT NULL,
    "byId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PageDeletion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PageDeletion_createdAt_idx" ON "PageDeletion"("createdAt");

-- CreateIndex
CREATE INDEX "PageDeletion_pageId_createdAt_idx" ON "PageDeletion"("pageId", "createdAt");

-- AddForeignKey
ALTER TABLE "PageDeletion" ADD CONSTRAINT "PageDeletion_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PageDeletion" ADD CONSTRAINT "PageDeletion_byId_fkey" FOREIGN KEY ("byId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
