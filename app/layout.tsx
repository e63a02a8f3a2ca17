import type { ReactNode } from "react";
import "./globals.css";

export const metadata = {
  title: { default: "Weirwood", template: "%s · Weirwood" },
  description: "A collaborative wiki whose writes are accepted at the edge.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
