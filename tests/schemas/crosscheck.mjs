// Cross-check (by hand, not run by `cargo test`): validates exported HTTPRoute and
// VirtualService documents with the compiled validators of the npm packages the schemas in
// this folder are transcribed from. See README.md for how to run it.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { VirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";

const require = createRequire(import.meta.url);
const YAML = require("yaml");
let failed = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of YAML.parseAllDocuments(readFileSync(file, "utf8"))) {
    const obj = doc.toJS();
    if (!obj) continue;
    const Model = obj.kind === "HTTPRoute" ? HTTPRoute : VirtualService;
    try {
      new Model(obj).validate();
      console.log(`ok   ${file} ${obj.kind} ${obj.metadata.name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${file} ${obj.kind} ${obj.metadata.name}: ${e.message}`);
    }
  }
}
process.exit(failed ? 1 : 0);
