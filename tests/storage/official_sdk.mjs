// Drives the official 0G TS SDK for interoperability tests and benches. Prints one JSON line.
//   node official_sdk.mjs root FILE...                         -> {"roots": ["0x..", ...]}
//   node official_sdk.mjs upload FILE RPC_URL KEY INDEXER_URL [TASK_SIZE [FRAGMENT_SIZE [ENCRYPTION]]]
//                                                              -> {"root", "txHash", "txSeq"} (roots joined by ","
//                                                                 when the SDK split the file into fragments)
//   node official_sdk.mjs download ROOT[,ROOT...] OUT INDEXER_URL  -> {"ok": true} (several roots: its
//                                                                 multi-root download, the fragments concatenated)
//   node official_sdk.mjs kv-encode VERSION STREAM KEY=VALUE...  -> {"blob", "tags"} (hex; keys, values hex)
//   node official_sdk.mjs kv-put RPC_URL KEY INDEXER_URL STREAM KEY=VALUE...  -> {"txSeq", "root"} (Batcher)
//   node official_sdk.mjs kv-get KV_URL STREAM KEY             -> KvClient.getValue: {"data" (base64), "version", "size"}
//   node official_sdk.mjs download-blob ROOT OUT INDEXER_URL [DECRYPTION]  -> {"ok": true}
// ENCRYPTION is JSON: {"type": "aes256", "key": HEX} or {"type": "ecies", "recipientPubKey": HEX}, the SDK's
// upload option (its aes256 key must be bytes). DECRYPTION is JSON: {"symmetricKey": HEX} or {"privateKey": HEX},
// downloadToBlob's `decryption` option.
import { Batcher, Indexer, KvClient, StreamDataBuilder, ZgFile, getFlowContract } from "@0gfoundation/0g-ts-sdk";
import { ethers } from "ethers";
import { writeFileSync } from "node:fs";

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

async function upload(path, rpc, key, indexerUrl, taskSize, fragmentSize, encryption) {
  const signer = new ethers.Wallet(key, new ethers.JsonRpcProvider(rpc));
  const file = await ZgFile.fromFilePath(path);
  try {
    const options = {};
    if (taskSize) options.taskSize = Number(taskSize);
    if (fragmentSize) options.fragmentSize = Number(fragmentSize);
    if (encryption) {
      options.encryption = JSON.parse(encryption);
      if (options.encryption.key) options.encryption.key = ethers.getBytes(options.encryption.key);
    }
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

function pairs(items) {
  return items.map((item) => item.split("=").map((hex) => Uint8Array.from(Buffer.from(hex, "hex"))));
}

function kvEncode(version, stream, ...items) {
  const builder = new StreamDataBuilder(Number(version));
  for (const [key, value] of pairs(items)) builder.set(stream, key, value);
  const hex = (bytes) => "0x" + Buffer.from(bytes).toString("hex");
  return { blob: hex(builder.build().encode()), tags: hex(builder.buildTags()) };
}

async function kvPut(rpc, key, indexerUrl, stream, ...items) {
  const signer = new ethers.Wallet(key, new ethers.JsonRpcProvider(rpc));
  const [nodes, err] = await new Indexer(indexerUrl).selectNodes(1);
  if (err) throw err;
  const status = await nodes[0].getStatus();
  const flow = getFlowContract(status.networkIdentity.flowAddress, signer);
  const batcher = new Batcher(Number.MAX_SAFE_INTEGER, nodes, flow, rpc);
  for (const [k, v] of pairs(items)) batcher.streamDataBuilder.set(stream, k, v);
  const [result, error] = await batcher.exec();
  if (error) throw error;
  return { txSeq: result.txSeq, root: result.rootHash };
}

async function kvGet(url, stream, key) {
  return await new KvClient(url).getValue(stream, Uint8Array.from(Buffer.from(key, "hex")));
}

async function downloadBlob(rootHash, out, indexerUrl, decryption) {
  const options = decryption ? { decryption: JSON.parse(decryption) } : {};
  const [blob, err] = await new Indexer(indexerUrl).downloadToBlob(rootHash, options);
  if (err) throw err;
  writeFileSync(out, new Uint8Array(await blob.arrayBuffer()));
  return { ok: true };
}

const [command, ...args] = process.argv.slice(2);
const commands = {
  root: () => root(args),
  upload: () => upload(...args),
  download: () => download(...args),
  "kv-encode": () => kvEncode(...args),
  "kv-put": () => kvPut(...args),
  "kv-get": () => kvGet(...args),
  "download-blob": () => downloadBlob(...args),
};
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
