-- AlterTable
ALTER TABLE "User" ADD COLUMN     "bot" BOOLEAN NOT NULL DEFAULT false;
