import type { ReactNode } from "react";
import { SiteHeader } from "@/components/layout/SiteHeader";
import "./globals.css";
import { currentViewer } from "./viewer";

export const metadata = {
  title: { default: "Weirwood", template: "%s · Weirwood" },
  description: "A collaborative wiki whose writes are accepted at the edge.",
};

export const viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const viewer = await currentViewer();
  return (
    <html lang="en">
      <body>
        <SiteHeader user={viewer ? { name: viewer.name, role: viewer.role } : null} />
        <main>{children}</main>
      </body>
    </html>
  );
}
