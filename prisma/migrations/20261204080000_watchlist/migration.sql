-- CreateTable
CREATE TABLE "Watch" (
    "userId" UUID NOT NULL,
    "pageId" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Watch_pkey" PRIMARY KEY ("userId","pageId")
);

-- CreateIndex
CREATE INDEX "Watch_pageId_idx" ON "Watch"("pageId");

-- CreateIndex
CREATE INDEX "Revision_authors_idx" ON "Revision" USING GIN ("authors");

-- AddForeignKey
ALTER TABLE "Watch" ADD CONSTRAINT "Watch_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Watch" ADD CONSTRAINT "Watch_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;
