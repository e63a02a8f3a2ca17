import { MissingPage } from "@/components/page/MissingPage";

export default function WikiPageNotFound() {
  return <MissingPage />;
}
