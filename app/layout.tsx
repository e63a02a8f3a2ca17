import type { ReactNode } from "react";
import { SiteHeader } from "@/components/layout/SiteHeader";
import { ViewerProvider } from "@/components/layout/ViewerContext";
import "./globals.css";

export const metadata = {
  title: { default: "Weirwood", template: "%s · Weirwood" },
  description: "A collaborative wiki whose writes are accepted at the edge.",
};

export const viewport = { width: "device-width", initialScale: 1 };

// No cookie is read here: a page is the same HTML for every reader, so that
// shared caches keep it (docs/architecture.md, "Cached reads"). Who reads
// comes from GET /api/me in the browser (ViewerProvider).
export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <ViewerProvider>
          <SiteHeader />
          <main>{children}</main>
        </ViewerProvider>
      </body>
    </html>
  );
}
