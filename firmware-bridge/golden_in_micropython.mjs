// Runs the bridge's frame encoder (hearth_frames.py) in a real MicroPython interpreter (the
// WebAssembly port, under Node) on the golden cases, and prints the frames it produces as JSON.
// Usage: node golden_in_micropython.mjs hearth_frames.py golden_frames.json
import { readFileSync } from "node:fs";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const [encoderPath, goldenPath] = process.argv.slice(2);
let out = "";
const mp = await loadMicroPython({ stdout: (line) => { out += line + "\n"; } });
mp.FS.writeFile("/hearth_frames.py", readFileSync(encoderPath, "utf8"));
mp.FS.writeFile("/golden.json", readFileSync(goldenPath, "utf8"));
mp.runPython(`
import sys, json
sys.path.append("/")
import hearth_frames
cases = json.load(open("/golden.json"))["frames"]
encoded = [hearth_frames.encode(c["seq"], c["uptime_ms"], c["kind"], c["fields"]) for c in cases]
sent = []
s = hearth_frames.Sender(sent.append)
s.hello(12, "0.1.0", [("front_door", "contact"), ("kettle", "power")])
s.reading(500, "front_door", "contact", 1)
s.reading(900, "kettle", "power", 2150.46)
s.reading(950, "kettle", "power", 0.04)
s.heartbeat(10900)
print(json.dumps({"implementation": sys.implementation.name, "encoded": encoded, "sent": sent}))
`);
process.stdout.write(out);
