// Relative asset paths: the same build is served at /console/ offline and at a CloudFront domain's root.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "^/(orders|shipments|locations|returns|stock|products|customers|suppliers|purchase-orders|replenishment|demand|alerts|kpis|_local)": "http://127.0.0.1:3000" } },
});
