import { backend } from "../../../../auth";

export const { GET, POST } = backend.refreshRoute;
