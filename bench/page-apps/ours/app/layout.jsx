export { default, metadata } from "../../shared-layout.jsx";
