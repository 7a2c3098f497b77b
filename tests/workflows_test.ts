/**
 * The GitHub workflows are checked here as far as a machine without GitHub can: each file is valid
 * YAML of the expected shape, and every `run:` step calls something that exists in this
 * repository (a deno task, a tools/ script, .ci/run), so a renamed task cannot break CI or
 * publishing unnoticed. tools/check_version.ts is tested on matching and mismatching tags.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { tagMismatch } from "../tools/check_version.ts";

const ROOT = new URL("../", import.meta.url);

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, { "runs-on": string; "timeout-minutes"?: number; steps: Step[] }>;
}

async function workflow(name: string): Promise<Workflow> {
  const text = await Deno.readTextFile(new URL(`.github/workflows/${name}`, ROOT));
  return parse(text) as Workflow;
}

/** Every problem with the commands of `run:` steps: unknown deno tasks, missing files. */
async function runProblems(steps: Step[]): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const tasks = new Set(Object.keys(config.tasks));
  const problems: string[] = [];
  for (const step of steps) {
    if (step.run === undefined) continue;
    for (const line of step.run.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const task = /^deno task ([\w:-]+)/.exec(line);
      if (task && !tasks.has(task[1]!)) problems.push(`unknown task: ${line}`);
      for (const file of line.matchAll(/(?:^|\s)((?:\.ci|tools)\/[\w./-]+)/g)) {
        try {
          await Deno.stat(new URL(file[1]!, ROOT));
        } catch {
          problems.push(`missing file ${file[1]}: ${line}`);
        }
      }
      if (!/^(deno|bash|node|npm|npx) /.test(line)) problems.push(`unexpected command: ${line}`);
    }
  }
  return problems;
}

Deno.test("ci.yml runs .ci/run on push and pull request, on the pinned Deno and the latest 2.x", async () => {
  const ci = await workflow("ci.yml");
  assert.ok("push" in ci.on && "pull_request" in ci.on);
  const job = ci.jobs.test!;
  assert.ok(job["timeout-minutes"]! <= 90);
  assert.ok(job.steps.some((s) => s.run === "bash .ci/run"));
  assert.ok(job.steps.some((s) => s.uses?.startsWith("denoland/setup-deno@")));
  assert.deepEqual(await runProblems(job.steps), []);
  assert.deepEqual(ci.permissions, { contents: "read" });
});

Deno.test("publish.yml tests, checks the tag, builds, then publishes with an OIDC token", async () => {
  const publish = await workflow("publish.yml");
  assert.deepEqual(publish.on, { push: { tags: ["v*"] } });
  assert.equal(publish.permissions?.["id-token"], "write");
  const steps = publish.jobs.publish!.steps;
  const runs = steps.flatMap((s) => s.run ? [s.run] : []);
  const order = ["bash .ci/run", "tools/check_version.ts", "deno task build", "deno publish"];
  const at = order.map((needle) => runs.findIndex((run) => run.includes(needle)));
  assert.ok(at.every((i) => i >= 0), `missing step: ${order[at.indexOf(-1)]}`);
  assert.deepEqual(at, [...at].sort((a, b) => a - b), "steps run in order");
  assert.deepEqual(await runProblems(steps), []);
});

Deno.test("runProblems() reports an unknown task and a missing script", async () => {
  assert.deepEqual(
    await runProblems([{ run: "deno task no-such-task\nbash .ci/missing\ncurl x" }]),
    [
      "unknown task: deno task no-such-task",
      "missing file .ci/missing: bash .ci/missing",
      "unexpected command: curl x",
    ],
  );
});

Deno.test("tools/check_version.ts accepts v<version> only", async () => {
  const { version } = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assert.equal(tagMismatch(`v${version}`, version), undefined);
  assert.match(tagMismatch(version, version)!, /expected "v/);
  assert.match(tagMismatch("v9.9.9", version)!, /does not match/);
});
