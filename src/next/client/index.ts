"use client";

export { SessionRefresher, type SessionRefresherProps } from "./session-refresher.js";
