import type { Metadata } from "next";
import { Providers } from "../providers";
import { LiveSession } from "./live-session";

export const metadata: Metadata = { title: "Live session" };

/** A page with only a client component: nothing here talks to the server after the first load. */
export default function LivePage() {
  return (
    <Providers>
      <LiveSession />
    </Providers>
  );
}
