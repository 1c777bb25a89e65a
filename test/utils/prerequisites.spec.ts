import { ensureTools, type Tool, type ToolHost } from './prerequisites';

const SIPP: Tool = { command: 'sipp', debianPackage: 'sip-tester' };

/** A machine with the given commands on its PATH; apt-get install adds what `installs` lists. */
function host(options: { present: string[]; isRoot: boolean; installs?: string[]; aptFails?: boolean }): {
  host: ToolHost;
  runs: string[];
} {
  const present = new Set(options.present);
  const runs: string[] = [];
  return {
    runs,
    host: {
      has: (command) => present.has(command),
      isRoot: options.isRoot,
      run: (command, args) => {
        runs.push([command, ...args].join(' '));
        if (options.aptFails) return false;
        if (args[0] === 'install') for (const c of options.installs ?? []) present.add(c);
        return true;
      },
    },
  };
}

describe('ensureTools', () => {
  it('does nothing when every tool is on the PATH', () => {
    const m = host({ present: ['sipp', 'apt-get'], isRoot: true });
    expect(ensureTools([SIPP], m.host)).toBeUndefined();
    expect(m.runs).toEqual([]);
  });

  it('installs a missing tool as root: apt-get update, then install -y', () => {
    const m = host({ present: ['apt-get'], isRoot: true, installs: ['sipp'] });
    expect(ensureTools([SIPP], m.host)).toBeUndefined();
    expect(m.runs).toEqual(['apt-get update', 'apt-get install -y sip-tester']);
  });

  it('stops with one line naming the package when not root, without running anything', () => {
    const m = host({ present: ['apt-get'], isRoot: false });
    const problem = ensureTools([SIPP], m.host);
    expect(problem).toBe(
      "The end-to-end tests need sipp: install Debian's sip-tester (apt-get install sip-tester) and run them again.",
    );
    expect(m.runs).toEqual([]);
  });

  it('stops with the same line when root but apt-get fails or is absent', () => {
    const failing = host({ present: ['apt-get'], isRoot: true, aptFails: true });
    expect(ensureTools([SIPP], failing.host)).toMatch(/^The end-to-end tests need sipp: install Debian's sip-tester/);
    expect(failing.runs).toEqual(['apt-get update']);
    const noApt = host({ present: [], isRoot: true });
    expect(ensureTools([SIPP], noApt.host)).toMatch(/install Debian's sip-tester/);
    expect(noApt.runs).toEqual([]);
  });

  it('says so when the package installed but the binary is still not on the PATH', () => {
    const m = host({ present: ['apt-get'], isRoot: true });
    expect(ensureTools([SIPP], m.host)).toBe('sipp still not on the PATH after apt-get install sip-tester');
  });

  it('installs a package once for several of its files, and names the suite that needs them', () => {
    const tools: Tool[] = [
      { command: 'kamailio', debianPackage: 'kamailio' },
      { command: '/usr/lib/kamailio/modules/presence.so', debianPackage: 'kamailio-presence-modules' },
      { command: '/usr/lib/kamailio/modules/pua.so', debianPackage: 'kamailio-presence-modules' },
    ];
    const m = host({ present: ['apt-get'], isRoot: true, installs: tools.map((t) => t.command) });
    expect(ensureTools(tools, m.host, 'interop tests')).toBeUndefined();
    expect(m.runs).toEqual(['apt-get update', 'apt-get install -y kamailio kamailio-presence-modules']);
    const user = host({ present: ['kamailio'], isRoot: false });
    expect(ensureTools(tools, user.host, 'interop tests')).toBe(
      "The interop tests need /usr/lib/kamailio/modules/presence.so, /usr/lib/kamailio/modules/pua.so: install Debian's kamailio-presence-modules (apt-get install kamailio-presence-modules) and run them again.",
    );
  });
});
