-- CreateTable
CREATE TABLE "PageClientClaim" (
    "pageId" UUID NOT NULL,
    "clientId" BIGINT NOT NULL,
    "author" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PageClientClaim_pkey" PRIMARY KEY ("pageId","clientId")
);

-- AddForeignKey
ALTER TABLE "PageClientClaim" ADD CONSTRAINT "PageClientClaim_pageId_fkey" FOREIGN KEY ("pageId") REFERENCES "Page"("id") ON DELETE CASCADE ON UPDATE CASCADE;
