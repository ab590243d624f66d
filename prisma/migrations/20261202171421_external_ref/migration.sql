-- AlterTable
ALTER TABLE "transfers" ADD COLUMN     "external_ref" TEXT;

-- AlterTable
ALTER TABLE "holds" ADD COLUMN     "external_ref" TEXT;
