export { type BackendAxiosOptions, withBackendAuth } from "./backend-axios.js";
