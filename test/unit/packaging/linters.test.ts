/**
 * Off-the-shelf linters over the packaging files, where Debian has them: shellcheck for
 * the shell scripts and yamllint for the YAML. Each is skipped, saying so, when the tool is
 * not installed (scripts/ensure-test-deps.sh decides what CI installs).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function tool(path: string): string | false {
  return existsSync(path)
    ? false
    : `${path} is not installed (apt-get install ${path.split('/').pop()})`;
}

describe('linters', () => {
  it('shellcheck: the s6 service scripts and apccontrol', {
    skip: tool('/usr/bin/shellcheck'),
  }, () => {
    const r = spawnSync(
      '/usr/bin/shellcheck',
      [
        '--shell=bash',
        'addon/rootfs/etc/services.d/ups2mqtt/run',
        'addon/rootfs/etc/services.d/ups2mqtt/finish',
        'contrib/apcupsd/apccontrol',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('yamllint: add-on, repository, compose, blueprint and workflow files', {
    skip: tool('/usr/bin/yamllint'),
  }, () => {
    // Long lines and comments at the indentation of commented-out keys are fine here.
    const config =
      '{extends: default, rules: {line-length: {max: 120}, document-start: disable, ' +
      'truthy: {check-keys: false}, comments-indentation: disable}}';
    const r = spawnSync(
      '/usr/bin/yamllint',
      [
        '--strict',
        '-f',
        'parsable',
        '-d',
        config,
        'addon/config.yaml',
        'addon/translations/en.yaml',
        'repository.yaml',
        'docker-compose.yml',
        'blueprints/automation/ups2mqtt/low_runtime_shutdown.yaml',
        'blueprints/automation/ups2mqtt/power_outage_notify.yaml',
        '.github/workflows',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
