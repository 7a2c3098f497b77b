/**
 * Test PKI made with the `openssl` CLI at test time, once per process: a CA, a server certificate
 * for `localhost` and `127.0.0.1`, two client certificates (EC P-256 and RSA 2048, X.509 v3 with
 * `extendedKeyUsage=clientAuth`), a self-signed client certificate no CA vouches for, a v1
 * client certificate, the client keys in other encodings (SEC1, PKCS#1, encrypted PKCS#8,
 * legacy encrypted) and a key that matches no certificate.
 *
 * Each client certificate's `x5t#S256` and DER come from openssl itself
 * (`openssl x509 -outform DER | openssl dgst -sha256 -binary`), so tests compare authlane against
 * an independent oracle.
 *
 * @module
 */

/** A client certificate with its key and the oracle values. */
export interface PkiClient {
  /** PEM certificate. */
  cert: string;
  /** PEM private key, unencrypted PKCS#8. */
  key: string;
  /** DER of the certificate, as openssl writes it. */
  der: Uint8Array<ArrayBuffer>;
  /** base64url(SHA-256(DER)), computed by openssl. */
  x5tS256: string;
}

/** The whole test PKI; every string is PEM. */
export interface Pki {
  /** The CA certificate (trust anchor for the server and the client certificates). */
  ca: string;
  /** Server certificate for DNS `localhost` and IP `127.0.0.1`. */
  serverCert: string;
  /** Server private key. */
  serverKey: string;
  /** EC P-256 client certificate, CA-signed. */
  ec: PkiClient & {
    /** The same key in SEC1 (`EC PRIVATE KEY`) form. */
    sec1Key: string;
    /** The same key as `ENCRYPTED PRIVATE KEY` (PKCS#8, passphrase "secret"). */
    encryptedKey: string;
    /** The same key in legacy OpenSSL encrypted form (`Proc-Type: 4,ENCRYPTED`). */
    legacyEncryptedKey: string;
  };
  /** RSA 2048 client certificate, CA-signed. */
  rsa: PkiClient & {
    /** The same key in PKCS#1 (`RSA PRIVATE KEY`) form. */
    pkcs1Key: string;
  };
  /** Self-signed client certificate the CA does not vouch for. */
  rogue: PkiClient;
  /** A CA-signed client certificate in X.509 v1 form (no extensions). */
  v1: PkiClient;
  /** An EC P-256 key that matches no certificate. */
  otherKey: string;
}

let cached: Promise<Pki> | undefined;

/** Returns the test PKI, generating it on first use. */
export function getPki(): Promise<Pki> {
  cached ??= generate();
  return cached;
}

/** Runs `openssl` with whitespace-separated arguments (none of them contains a space). */
async function openssl(cwd: string, command: string): Promise<void> {
  const args = command.trim().split(/\s+/);
  const output = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(`openssl ${command} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}

const EC = "-newkey ec -pkeyopt ec_paramgen_curve:P-256";
const RSA = "-newkey rsa:2048";
const CLIENT_EXT = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n" +
  "extendedKeyUsage=clientAuth\n";
const SERVER_EXT = "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n" +
  "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n";

async function generate(): Promise<Pki> {
  const dir = await Deno.makeTempDir({ prefix: "authlane-pki-" });
  try {
    const run = (command: string) => openssl(dir, command);
    const read = (file: string) => Deno.readTextFile(`${dir}/${file}`);
    await Deno.writeTextFile(`${dir}/client.ext`, CLIENT_EXT);
    await Deno.writeTextFile(`${dir}/server.ext`, SERVER_EXT);
    const request = (name: string, keyType: string) =>
      run(`req ${keyType} -nodes -keyout ${name}.key -out ${name}.csr -subj /CN=${name}`);
    const sign = (name: string, extfile = "") =>
      run(
        `x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 ` +
          `-out ${name}.crt ${extfile && `-extfile ${extfile}`}`,
      );

    await run(
      `req -x509 ${EC} -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=authlane-test-CA ` +
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
    );
    await request("localhost", EC);
    await sign("localhost", "server.ext");
    await request("ec", EC);
    await sign("ec", "client.ext");
    await request("rsa", RSA);
    await sign("rsa", "client.ext");
    await request("v1", EC); // no -extfile: openssl writes X.509 v1
    await sign("v1");
    await run(
      `req -x509 ${EC} -nodes -keyout rogue.key -out rogue.crt -days 2 -subj /CN=rogue ` +
        "-addext extendedKeyUsage=clientAuth",
    );
    await run("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key");
    await run("ec -in ec.key -out ec.sec1.key");
    await run("rsa -in rsa.key -traditional -out rsa.pkcs1.key");
    await run("pkcs8 -topk8 -in ec.key -passout pass:secret -out ec.enc.key");
    await run("ec -in ec.key -aes256 -passout pass:secret -out ec.legacy.key");

    const client = async (name: string): Promise<PkiClient> => {
      await run(`x509 -in ${name}.crt -outform DER -out ${name}.der`);
      await run(`dgst -sha256 -binary -out ${name}.sha256 ${name}.der`);
      const digest = await Deno.readFile(`${dir}/${name}.sha256`);
      return {
        cert: await read(`${name}.crt`),
        key: await read(`${name}.key`),
        der: await Deno.readFile(`${dir}/${name}.der`),
        x5tS256: digest.toBase64({ alphabet: "base64url", omitPadding: true }),
      };
    };

    return {
      ca: await read("ca.crt"),
      serverCert: await read("localhost.crt"),
      serverKey: await read("localhost.key"),
      ec: {
        ...await client("ec"),
        sec1Key: await read("ec.sec1.key"),
        encryptedKey: await read("ec.enc.key"),
        legacyEncryptedKey: await read("ec.legacy.key"),
      },
      rsa: { ...await client("rsa"), pkcs1Key: await read("rsa.pkcs1.key") },
      rogue: await client("rogue"),
      v1: await client("v1"),
      otherKey: await read("other.key"),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
