import react from "@vitejs/plugin-react";
import { resolve } from "node:path";
import { defineConfig } from "vite";

// Airflow's React plugin contract: a UMD library exposing `AirflowPlugin`, with React, React DOM
// and the JSX runtime taken from the Airflow UI that loads it (as in Airflow's plugin template).
export default defineConfig({
  plugins: [react()],
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    minify: true,
    sourcemap: false,
    lib: {
      entry: resolve("src", "main.tsx"),
      name: "AirflowPlugin",
      formats: ["umd"],
      fileName: () => "main.umd.cjs",
    },
    rollupOptions: {
      external: ["react", "react-dom", "react/jsx-runtime"],
      output: {
        globals: { react: "React", "react-dom": "ReactDOM", "react/jsx-runtime": "ReactJSXRuntime" },
      },
    },
  },
});
