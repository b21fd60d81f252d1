/** The root layout both bench apps use, so that only the auth layer differs between them. */
export const metadata = { title: "bench" };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
