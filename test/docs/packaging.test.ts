// The Dockerfile, compose file, Makefile, Kubernetes manifests and Prometheus files agree with each
// other and with the code: one port, one data path, one service name, real routes for the probes,
// files that the build really produces. No Docker engine or cluster runs here, so their text is
// read (with a YAML-subset reader; see test/helpers/yaml-subset.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { routeTable, type AppDeps } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createServiceMetrics } from '../../src/metrics/service-metrics.ts';
import { at, parseYaml, parseYamlDocuments, type Yaml } from '../helpers/yaml-subset.ts';

const root = join(import.meta.dirname, '..', '..');
const read = (name: string): string => readFileSync(join(root, name), 'utf8');

const dockerfile = read('Dockerfile');
const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const dockerEnv = Object.fromEntries([...(/^ENV ((?:.*\\\n)*.*)$/m.exec(finalStage)?.[1] ?? '').matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
const exposed = Number(/^EXPOSE (\d+)$/m.exec(finalStage)?.[1]);
const dockerHealthcheck = JSON.parse(/^HEALTHCHECK [^\n]*\\\n\s+CMD (\[.*\])$/m.exec(finalStage)?.[1] ?? 'null') as string[] | null;
const dockerCmd = JSON.parse(/^CMD (\[.*\])$/m.exec(finalStage)?.[1] ?? 'null') as string[] | null;
const dockerUid = Number(/^USER (\d+):\d+$/m.exec(finalStage)?.[1]);

const compose = parseYaml(read('docker-compose.yml'));
const api = at(compose, 'services', 'api');
const k8s = Object.fromEntries(
  ['deployment.yaml', 'service.yaml', 'pvc.yaml', 'examples/secret.yaml'].map((f) => [String(at(parseYaml(read(`k8s/${f}`)), 'kind')), parseYaml(read(`k8s/${f}`))]),
);
const deployment = k8s['Deployment'] ?? null;
const pod = at(deployment, 'spec', 'template', 'spec');
const container = at(pod, 'containers', 0);

const defaults = loadConfig({});
assert.ok(defaults.ok);
const routes = routeTable({} as AppDeps);
const isGetRoute = (path: Yaml): boolean => typeof path === 'string' && routes[path]?.['GET'] !== undefined;
const list = (value: Yaml): Yaml[] => (Array.isArray(value) ? value : assert.fail(`expected a list, got ${JSON.stringify(value)}`));
const seconds = (duration: Yaml): number => {
  const m = /^(\d+)s$/.exec(String(duration));
  return m ? Number(m[1]) : assert.fail(`not a duration in seconds: ${String(duration)}`);
};
const drainSeconds = defaults.config.shutdownGraceSeconds;

/** dist/X.js → src/X.ts (and .cjs → .cts), as tsconfig.build.json maps them. */
function sourceOf(imagePath: string): string {
  const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string } };
  const m = new RegExp(`^/app/${build.compilerOptions.outDir}/(.+)\\.(c?)js$`).exec(imagePath);
  assert.ok(m, `${imagePath} is in the build output`);
  return join(build.compilerOptions.rootDir, `${m[1]}.${m[2]}ts`);
}

test('one port everywhere: config default, Dockerfile, compose, Kubernetes, Prometheus', () => {
  assert.ok(defaults.ok);
  const port = defaults.config.port;
  assert.equal(port, 8000);
  assert.equal(exposed, port);
  assert.equal(Number(dockerEnv['PORT']), port);
  assert.deepEqual(at(api, 'ports'), [`${port}:${port}`]);
  const ports = list(at(container, 'ports'));
  assert.equal(ports.length, 1);
  assert.equal(at(ports[0] ?? null, 'containerPort'), port);
  const portName = at(ports[0] ?? null, 'name');
  const env = Object.fromEntries(list(at(container, 'env')).map((e) => [String(at(e, 'name')), e]));
  assert.equal(at(env['PORT'] ?? null, 'value'), String(port));
  for (const probe of ['livenessProbe', 'readinessProbe']) assert.equal(at(container, probe, 'httpGet', 'port'), portName);
  assert.equal(at(k8s['Service'] ?? null, 'spec', 'ports', 0, 'targetPort'), portName);
  assert.equal(at(k8s['Service'] ?? null, 'spec', 'ports', 0, 'port'), port);
  const annotations = at(deployment, 'spec', 'template', 'metadata', 'annotations');
  assert.equal(at(annotations, 'prometheus.io/scrape'), 'true');
  assert.equal(at(annotations, 'prometheus.io/port'), String(port));
  const target = String(at(parseYaml(read('deploy/prometheus/prometheus.yml')), 'scrape_configs', 0, 'static_configs', 0, 'targets', 0));
  assert.equal(target, `api:${port}`, 'Prometheus scrapes the compose service on the service port');
});

test('one data path: /data volume, DATABASE_URL=sqlite:////data/app.db, writable by the image user', () => {
  const url = 'sqlite:////data/app.db';
  const parsed = loadConfig({ DATABASE_URL: url });
  assert.ok(parsed.ok);
  const dataDir = dirname(parsed.config.databasePath);
  assert.equal(dataDir, '/data');
  assert.equal(dockerEnv['DATABASE_URL'], url);
  assert.match(finalStage, new RegExp(`^VOLUME \\["${dataDir}"\\]$`, 'm'));
  assert.match(finalStage, new RegExp(`^COPY --from=build --chown=${dockerUid}:${dockerUid} ${dataDir} ${dataDir}$`, 'm'));

  assert.equal(at(api, 'environment', 'DATABASE_URL'), url);
  const [volume, mount] = String(list(at(api, 'volumes'))[0]).split(':');
  assert.equal(mount, dataDir);
  assert.ok(volume !== undefined && Object.hasOwn(at(compose, 'volumes') as object, volume), `${volume} is a named volume`);

  const env = Object.fromEntries(list(at(container, 'env')).map((e) => [String(at(e, 'name')), e]));
  assert.equal(at(env['DATABASE_URL'] ?? null, 'value'), url);
  const mounts = list(at(container, 'volumeMounts'));
  const dataMount = mounts.find((m) => at(m, 'mountPath') === dataDir);
  assert.ok(dataMount, `a volume mounted at ${dataDir}`);
  const volumes = list(at(pod, 'volumes'));
  const claim = at(volumes.find((v) => at(v, 'name') === at(dataMount, 'name')) ?? null, 'persistentVolumeClaim', 'claimName');
  assert.equal(claim, at(k8s['PersistentVolumeClaim'] ?? null, 'metadata', 'name'));
  assert.equal(at(pod, 'securityContext', 'fsGroup'), dockerUid, 'the claim is writable by the image user');
});

test('docker-compose.yml: service api, secret required, log level defaulted, health check, restarts, read-only, grace period over the drain', () => {
  assert.deepEqual(Object.keys(at(compose, 'services') as object), ['api']);
  assert.equal(at(api, 'build'), '.');
  assert.equal(at(api, 'environment', 'WEBHOOK_SECRET'), '${WEBHOOK_SECRET:?WEBHOOK_SECRET must be set}');
  assert.equal(at(api, 'environment', 'LOG_LEVEL'), '${LOG_LEVEL:-INFO}');
  assert.deepEqual(at(api, 'healthcheck', 'test'), ['CMD', ...(dockerHealthcheck ?? [])], 'the same check as the image');
  const imageCheck = Object.fromEntries([...(/^HEALTHCHECK (.*)\\$/m.exec(finalStage)?.[1] ?? '').matchAll(/--([a-z-]+)=(\S+)/g)].map((m) => [(m[1] ?? '').replace('-', '_'), m[2] ?? '']));
  for (const key of ['interval', 'timeout', 'start_period', 'retries']) assert.equal(String(at(api, 'healthcheck', key)), imageCheck[key], `healthcheck ${key} as in the image`);
  // Each check is a Node process in the container (BENCHMARKS.md): not more often than Docker's default.
  assert.ok(seconds(imageCheck['interval'] ?? '') >= 30, `health check interval ${imageCheck['interval']} is at least 30 s`);
  assert.equal(at(api, 'restart'), 'unless-stopped');
  assert.equal(at(api, 'read_only'), true);
  assert.ok(seconds(at(api, 'stop_grace_period')) > drainSeconds, `stop_grace_period over ${drainSeconds} s`);
  assert.equal(at(api, 'image'), at(container, 'image'), 'compose and Kubernetes run the same image');
});

test('Dockerfile: its CMD and HEALTHCHECK run compiled files of this repository with node, no shell', () => {
  assert.match(dockerfile, /^FROM node:24[^\s]* AS build$/m);
  assert.match(finalStage, /^FROM gcr\.io\/distroless\/nodejs24-debian12:latest$/m, 'the root variant; USER switches to 65532 after the code is in place');
  assert.equal(dockerUid, 65532);
  assert.ok(dockerCmd && dockerCmd.length >= 1, 'CMD is node flags and one file for the image entrypoint (node)');
  const entry = dockerCmd.at(-1) ?? '';
  for (const flag of dockerCmd.slice(0, -1)) assert.match(flag, /^--[a-z-]+(=\S+)?$/, 'only node flags before the file');
  assert.ok(dockerCmd.includes('--max-old-space-size-percentage=20'), 'the heap is sized from the container limit');
  assert.equal(sourceOf(entry), join('src', 'main.ts'));
  assert.ok(existsSync(join(root, sourceOf(entry))));
  assert.ok(dockerHealthcheck, 'HEALTHCHECK in exec form');
  assert.equal(dockerHealthcheck[0], '/nodejs/bin/node');
  assert.ok(existsSync(join(root, sourceOf(dockerHealthcheck[1] ?? ''))), 'the health-check script is built from src/');
  assert.equal(dockerHealthcheck.length, 2);
  assert.doesNotMatch(finalStage, /curl|wget|\/bin\/sh|CMD-SHELL/);
});

test('Makefile: up, down, logs and test run what SPEC.md names; build, run and help exist', () => {
  const makefile = read('Makefile');
  const recipe = (target: string): string | undefined => new RegExp(`^${target}:.*\\n\\t(.+)$`, 'm').exec(makefile)?.[1];
  assert.equal(recipe('up'), 'docker compose up -d --build');
  assert.equal(recipe('down'), 'docker compose down -v');
  assert.equal(recipe('logs'), `docker compose logs -f ${Object.keys(at(compose, 'services') as object)[0]}`);
  assert.match(recipe('test') ?? '', /^npm ci\b.*&& npm test$/);
  assert.equal(recipe('build'), 'npm run build');
  assert.equal(recipe('run'), 'npm start');
  assert.ok(recipe('help'));
  assert.match(makefile, /^\.PHONY: .*\bhelp\b/m);
  assert.ok(makefile.indexOf('\nhelp:') < makefile.indexOf('\nup:'), 'help is the default target');
});

test('Kubernetes: one replica recreated, probes on real routes, locked down, bounded, scraped, graceful', () => {
  assert.equal(at(deployment, 'spec', 'replicas'), 1);
  assert.equal(at(deployment, 'spec', 'strategy', 'type'), 'Recreate');
  assert.equal(at(container, 'livenessProbe', 'httpGet', 'path'), '/health/live');
  assert.equal(at(container, 'readinessProbe', 'httpGet', 'path'), '/health/ready');
  for (const probe of ['livenessProbe', 'readinessProbe']) assert.ok(isGetRoute(at(container, probe, 'httpGet', 'path')), `${probe} asks a GET route`);
  assert.ok(isGetRoute(at(deployment, 'spec', 'template', 'metadata', 'annotations', 'prometheus.io/path')));

  assert.equal(at(pod, 'securityContext', 'runAsNonRoot'), true);
  assert.equal(at(pod, 'securityContext', 'runAsUser'), dockerUid);
  assert.equal(at(pod, 'securityContext', 'seccompProfile', 'type'), 'RuntimeDefault');
  assert.equal(at(container, 'securityContext', 'readOnlyRootFilesystem'), true);
  assert.equal(at(container, 'securityContext', 'allowPrivilegeEscalation'), false);
  assert.deepEqual(at(container, 'securityContext', 'capabilities', 'drop'), ['ALL']);
  for (const kind of ['requests', 'limits']) for (const resource of ['cpu', 'memory']) assert.ok(at(container, 'resources', kind, resource));
  // The preStop sleep runs before SIGTERM, inside the same grace period: sleep + drain + closing.
  const preStop = Number(at(container, 'lifecycle', 'preStop', 'sleep', 'seconds'));
  assert.ok(preStop >= 3 && preStop <= 15, `a preStop sleep of a few seconds, for the endpoints to update (got ${preStop})`);
  assert.ok(Number(at(pod, 'terminationGracePeriodSeconds')) >= preStop + drainSeconds + 2, 'terminationGracePeriodSeconds covers the preStop sleep, the drain and closing the database');

  const selector = at(deployment, 'spec', 'selector', 'matchLabels');
  assert.deepEqual(at(k8s['Service'] ?? null, 'spec', 'selector'), selector);
  assert.deepEqual(at(deployment, 'spec', 'template', 'metadata', 'labels'), selector);
  assert.deepEqual(at(k8s['PersistentVolumeClaim'] ?? null, 'spec', 'accessModes'), ['ReadWriteOnce']);
});

test('Kubernetes: every env var is one the config reads; the secret is a file from the example Secret, which holds only a placeholder', () => {
  const names = new Set<string>();
  loadConfig(new Proxy({}, { get: (_t, key) => (typeof key === 'string' && names.add(key), undefined) }));
  const env = list(at(container, 'env'));
  for (const e of env) assert.ok(names.has(String(at(e, 'name'))), `${String(at(e, 'name'))} is read by the config`);
  assert.equal(env.find((e) => at(e, 'name') === 'WEBHOOK_SECRET'), undefined, 'not as an environment variable');
  const secretFile = String(at(env.find((e) => at(e, 'name') === 'WEBHOOK_SECRET_FILE') ?? null, 'value'));
  const mount = list(at(container, 'volumeMounts')).find((m) => secretFile.startsWith(`${String(at(m, 'mountPath'))}/`));
  assert.ok(mount, `${secretFile} is in a mounted volume`);
  assert.equal(at(mount, 'readOnly'), true);
  const volume = list(at(pod, 'volumes')).find((v) => at(v, 'name') === at(mount, 'name'));
  const secret = k8s['Secret'] ?? null;
  assert.equal(at(volume ?? null, 'secret', 'secretName'), at(secret, 'metadata', 'name'));
  const key = secretFile.slice(String(at(mount, 'mountPath')).length + 1);
  const value = at(secret, 'stringData', key);
  assert.match(String(value), /^REPLACE-/, 'a placeholder, never a real secret');
  assert.equal(parseYamlDocuments(read('k8s/examples/secret.yaml')).length, 1);
  assert.ok(!existsSync(join(root, 'k8s', 'secret.yaml')), 'no Secret in k8s/ itself, so kubectl apply -f k8s/ cannot overwrite the real one');
});

test('Prometheus: rule files resolve next to the config, rules select the scrape job and only metrics the service exports', () => {
  const config = parseYaml(read('deploy/prometheus/prometheus.yml'));
  const job = at(config, 'scrape_configs', 0, 'job_name');
  assert.equal(at(config, 'scrape_configs', 0, 'metrics_path'), '/metrics');
  assert.ok(isGetRoute('/metrics'));
  const exported = new Set([...createServiceMetrics().render().matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap((m) => (m[2] === 'histogram' ? [`${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`] : [m[1] ?? ''])));
  exported.add('up');
  const ruleFiles = list(at(config, 'rule_files')).map(String);
  assert.ok(ruleFiles.length > 0);
  for (const file of ruleFiles) {
    const path = join(root, 'deploy', 'prometheus', file);
    assert.ok(existsSync(path), `${file} is next to prometheus.yml`);
    for (const group of list(at(parseYaml(readFileSync(path, 'utf8')), 'groups'))) {
      for (const rule of list(at(group, 'rules'))) {
        const name = String(at(rule, 'alert'));
        const expr = String(at(rule, 'expr'));
        assert.ok(String(at(rule, 'annotations', 'summary')).length > 10, `${name} has a summary`);
        assert.ok(String(at(rule, 'annotations', 'description')).length > 30, `${name} has a description`);
        assert.match(String(at(rule, 'labels', 'severity')), /^(critical|warning|info)$/);
        const selectors = [...expr.matchAll(/([a-z_:][a-z0-9_:]*)\{([^}]*)\}/g)];
        assert.ok(selectors.length > 0, `${name} selects series`);
        for (const [, metric, labels] of selectors) {
          assert.ok(exported.has(metric ?? ''), `${name}: ${metric} is exported by the service`);
          assert.match(labels ?? '', new RegExp(`job="${String(job)}"`), `${name}: ${metric} selects job="${String(job)}"`);
        }
      }
    }
  }
});

test('README: every `docker run` of the service is as locked down as compose, with a stop timeout above the drain', () => {
  const readme = read('README.md');
  const runs = [...readme.matchAll(/^docker run -d --name webhook-api (?:.*\\\n)*.*$/gm)].map((m) => m[0].replace(/\\\n\s*/g, ' '));
  assert.ok(runs.length >= 2, 'the plain and the secret-file examples');
  for (const run of runs) {
    for (const flag of ['--read-only', '--tmpfs /tmp', '--cap-drop ALL', '--security-opt no-new-privileges', '-v webhook-data:/data']) assert.ok(run.includes(flag), `${flag} in: ${run}`);
    const stop = Number(/--stop-timeout (\d+)/.exec(run)?.[1]);
    assert.ok(stop > drainSeconds, `--stop-timeout over the ${drainSeconds} s drain in: ${run}`);
  }
  assert.equal(at(api, 'read_only'), true);
  assert.deepEqual(at(api, 'cap_drop'), ['ALL']);
  assert.deepEqual(at(api, 'security_opt'), ['no-new-privileges:true']);
});

// PostgreSQL: k8s/postgres/ (three stateless replicas) and docker-compose.postgres.yml (two).
const pgK8s = Object.fromEntries(['deployment.yaml', 'pdb.yaml', 'examples/secret.yaml'].map((f) => [String(at(parseYaml(read(`k8s/postgres/${f}`)), 'kind')), parseYaml(read(`k8s/postgres/${f}`))]));
const pgDeployment = pgK8s['Deployment'] ?? null;
const pgPod = at(pgDeployment, 'spec', 'template', 'spec');
const pgContainer = at(pgPod, 'containers', 0);
const envOf = (c: Yaml): Record<string, Yaml> => Object.fromEntries(list(at(c, 'env')).map((e) => [String(at(e, 'name')), at(e, 'value')]));

/** What the service's config makes of a container's environment, with NAME_FILE paths read from `files`. */
function configFrom(env: Record<string, Yaml>, files: Record<string, string>): ReturnType<typeof loadConfig> {
  return loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])), (path) => {
    const value = files[path];
    return value === undefined ? { ok: false, problem: `no file ${path}` } : { ok: true, value };
  });
}

test('k8s/postgres: three replicas rolled one at a time, a disruption budget, no volume claim, the same locked-down pod as the SQLite one', () => {
  assert.equal(at(pgDeployment, 'metadata', 'name'), at(deployment, 'metadata', 'name'), 'the same Deployment, so k8s/service.yaml and the scrape config fit');
  assert.equal(at(pgDeployment, 'spec', 'replicas'), 3);
  assert.equal(at(pgDeployment, 'spec', 'strategy', 'type'), 'RollingUpdate');
  assert.equal(at(pgDeployment, 'spec', 'strategy', 'rollingUpdate', 'maxUnavailable'), 0, 'a new pod is ready before an old one stops');
  assert.deepEqual(at(pgDeployment, 'spec', 'selector'), at(deployment, 'spec', 'selector'));
  assert.deepEqual(at(pgDeployment, 'spec', 'template', 'metadata'), at(deployment, 'spec', 'template', 'metadata'));
  const budget = pgK8s['PodDisruptionBudget'] ?? null;
  assert.equal(at(budget, 'apiVersion'), 'policy/v1');
  assert.deepEqual(at(budget, 'spec', 'selector'), at(pgDeployment, 'spec', 'selector'));
  assert.ok(Number(at(budget, 'spec', 'maxUnavailable')) < Number(at(pgDeployment, 'spec', 'replicas')) - 1, 'disruptions leave more than one replica serving');

  const volumes = list(at(pgPod, 'volumes'));
  assert.ok(volumes.every((v) => !Object.hasOwn(v as object, 'persistentVolumeClaim')), 'no volume claim');
  assert.ok(!list(at(pgContainer, 'volumeMounts')).some((m) => at(m, 'mountPath') === '/data'));
  for (const key of ['image', 'imagePullPolicy', 'ports', 'livenessProbe', 'readinessProbe', 'lifecycle', 'resources', 'securityContext']) {
    assert.deepEqual(at(pgContainer, key), at(container, key), `container ${key} as in k8s/deployment.yaml`);
  }
  for (const key of ['securityContext', 'terminationGracePeriodSeconds', 'automountServiceAccountToken']) assert.deepEqual(at(pgPod, key), at(pod, key), `pod ${key}`);
});

test('k8s/postgres: DATABASE_URL and the webhook secret are files from the Secret; the config reads them as a PostgreSQL target; the example holds placeholders only', () => {
  const names = new Set<string>();
  loadConfig(new Proxy({}, { get: (_t, key) => (typeof key === 'string' && names.add(key), undefined) }));
  const env = envOf(pgContainer);
  for (const name of Object.keys(env)) assert.ok(names.has(name), `${name} is read by the config`);
  assert.equal(env['DATABASE_URL'], '', "empty, so the image's SQLite default does not compete with DATABASE_URL_FILE");
  const mount = list(at(pgContainer, 'volumeMounts')).find((m) => at(m, 'name') === 'secrets');
  assert.equal(at(mount ?? null, 'readOnly'), true);
  const volume = list(at(pgPod, 'volumes')).find((v) => at(v, 'name') === 'secrets');
  const secret = pgK8s['Secret'] ?? null;
  assert.equal(at(volume ?? null, 'secret', 'secretName'), at(secret, 'metadata', 'name'));
  const files: Record<string, string> = {};
  for (const [key, value] of Object.entries(at(secret, 'stringData') as Record<string, Yaml>)) {
    assert.match(String(value), /REPLACE-/, `${key} is a placeholder`);
    files[`${String(at(mount ?? null, 'mountPath'))}/${key}`] = String(value);
  }
  const loaded = configFrom(env, files);
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.problems.join('; '));
  assert.equal(loaded.config.database.kind, 'postgres');
  assert.equal(loaded.config.database.kind === 'postgres' && loaded.config.database.connection.sslmode, 'verify-full', 'the example verifies the server');
  assert.ok(loaded.config.webhookSecret !== null);
  assert.ok(!existsSync(join(root, 'k8s', 'postgres', 'secret.yaml')), 'no Secret in k8s/postgres/ itself');
});

test('docker-compose.postgres.yml: PostgreSQL with SCRAM and a health check, two replicas on it, each on its own port, as locked down as docker-compose.yml', () => {
  const pgCompose = parseYaml(read('docker-compose.postgres.yml'));
  assert.deepEqual(Object.keys(at(pgCompose, 'services') as object), ['postgres', 'api']);
  const postgres = at(pgCompose, 'services', 'postgres');
  const replicaApi = at(pgCompose, 'services', 'api');
  assert.match(String(at(postgres, 'image')), /^postgres:1[3-9]\b/, 'PostgreSQL 13 or later (SPEC.md)');
  assert.match(String(at(postgres, 'environment', 'POSTGRES_INITDB_ARGS')), /--auth-host=scram-sha-256/);
  assert.equal(at(postgres, 'environment', 'POSTGRES_PASSWORD'), '${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}');
  assert.ok(at(postgres, 'healthcheck', 'test') !== null);
  assert.ok(Object.hasOwn(at(pgCompose, 'volumes') as object, String(list(at(postgres, 'volumes'))[0]).split(':')[0] ?? ''), 'the data is in a named volume');

  const replicas = Number(at(replicaApi, 'deploy', 'replicas'));
  assert.equal(replicas, 2);
  const [hostPorts, containerPort] = String(list(at(replicaApi, 'ports'))[0]).split(':');
  const [low, high] = String(hostPorts).split('-').map(Number);
  assert.equal(Number(containerPort), defaults.ok ? defaults.config.port : 0);
  assert.equal((high ?? 0) - (low ?? 0) + 1, replicas, 'a host port per replica');
  assert.equal(at(replicaApi, 'depends_on', 'postgres', 'condition'), 'service_healthy');
  assert.ok(!Object.hasOwn(replicaApi as object, 'volumes'), 'no data volume: the replicas keep no state');
  for (const key of ['build', 'image', 'read_only', 'tmpfs', 'cap_drop', 'security_opt', 'healthcheck', 'stop_grace_period', 'restart']) {
    assert.deepEqual(at(replicaApi, key), at(api, key), `${key} as in docker-compose.yml`);
  }
  const environment = Object.fromEntries(Object.entries(at(replicaApi, 'environment') as Record<string, Yaml>)
    .map(([k, v]) => [k, String(v).replace(/\$\{POSTGRES_PASSWORD:\?[^}]*\}/g, 'pw123').replace(/\$\{WEBHOOK_SECRET:\?[^}]*\}/g, 'secret').replace(/\$\{LOG_LEVEL:-([A-Z]+)\}/g, '$1')]));
  const loaded = configFrom(environment, {});
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.problems.join('; '));
  assert.ok(loaded.config.database.kind === 'postgres');
  assert.equal(loaded.config.database.connection.host, 'postgres', 'the compose service');
  assert.equal(loaded.config.database.connection.user, at(postgres, 'environment', 'POSTGRES_USER'));
  assert.equal(loaded.config.database.connection.database, at(postgres, 'environment', 'POSTGRES_DB'));
  assert.equal(loaded.config.database.connection.password?.reveal(), 'pw123');
});
