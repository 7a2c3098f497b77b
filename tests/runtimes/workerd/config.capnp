# workerd (Cloudflare's Workers runtime) in local mode for tests/runtimes/workerd_test.ts: one
# Worker that imports the shipped bundle (dist/authlane.js, embedded as it is on disk) and the
# shared flow, and reaches the oidc-provider and the test's control server on loopback.
# The test chooses the port: workerd serve config.capnp --socket-addr http=127.0.0.1:PORT

using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # The default outbound network allows public addresses only; the provider is on loopback.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  # Modules named by their paths in the repository, so worker.mjs's relative imports resolve
  # the same here and on disk.
  modules = [
    (name = "tests/runtimes/workerd/worker.mjs", esModule = embed "worker.mjs"),
    (name = "dist/authlane.js", esModule = embed "../../../dist/authlane.js"),
    (name = "tests/runtimes/_flow.mjs", esModule = embed "../_flow.mjs"),
  ],
  # A date near the workerd release (tests/runtimes/_tools.ts), as a new Worker would have; no
  # nodejs_compat: the library needs Web APIs only.
  compatibilityDate = "2026-11-01",
);
