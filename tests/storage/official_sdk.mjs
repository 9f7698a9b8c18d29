// Drives the official 0G TS SDK for interoperability tests and benches. Prints one JSON line.
//   node official_sdk.mjs root FILE...                         -> {"roots": ["0x..", ...]}
//   node official_sdk.mjs upload FILE RPC_URL KEY INDEXER_URL [TASK_SIZE [FRAGMENT_SIZE]]
//                                                              -> {"root", "txHash", "txSeq"} (roots joined by ","
//                                                                 when the SDK split the file into fragments)
//   node official_sdk.mjs download ROOT[,ROOT...] OUT INDEXER_URL  -> {"ok": true} (several roots: its
//                                                                 multi-root download, the fragments concatenated)
import { Indexer, ZgFile } from "@0gfoundation/0g-ts-sdk";
import { ethers } from "ethers";

// The SDK logs progress to stdout; keep stdout for our one JSON line.
const print = console.log.bind(console);
console.log = (...args) => console.error(...args);

async function root(files) {
  const roots = [];
  for (const path of files) {
    const file = await ZgFile.fromFilePath(path);
    const [tree, err] = await file.merkleTree();
    await file.close();
    if (err) throw err;
    roots.push(tree.rootHash());
  }
  return { roots };
}

async function upload(path, rpc, key, indexerUrl, taskSize, fragmentSize) {
  const signer = new ethers.Wallet(key, new ethers.JsonRpcProvider(rpc));
  const file = await ZgFile.fromFilePath(path);
  try {
    const options = {};
    if (taskSize) options.taskSize = Number(taskSize);
    if (fragmentSize) options.fragmentSize = Number(fragmentSize);
    const [result, err] = await new Indexer(indexerUrl).upload(file, rpc, signer, options);
    if (err) throw err;
    if (result.rootHashes) {
      return { root: result.rootHashes.join(","), txHash: result.txHashes.join(","), txSeq: result.txSeqs[0] };
    }
    return { root: result.rootHash, txHash: result.txHash, txSeq: result.txSeq };
  } finally {
    await file.close();
  }
}

async function download(rootHash, out, indexerUrl) {
  const roots = rootHash.split(",");
  const err = await new Indexer(indexerUrl).download(roots.length > 1 ? roots : roots[0], out, true);
  if (err) throw err;
  return { ok: true };
}

const [command, ...args] = process.argv.slice(2);
const commands = { root: () => root(args), upload: () => upload(...args), download: () => download(...args) };
if (!commands[command]) {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
try {
  print(JSON.stringify(await commands[command]()));
  process.exit(0);
} catch (err) {
  console.error(String(err?.stack || err));
  process.exit(1);
}
