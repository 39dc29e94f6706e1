/**
 * The benchmark's arms: what runs in each repetition, in order. `--arms 'upstream;berth;ceiling'` or, for A/B runs
 * of berth's own settings, `'json=berth --api-content-type json;proto=berth'`.
 */
export type ArmKind = 'upstream' | 'berth' | 'ceiling' | 'ceiling-bind';
export interface Arm {
  name: string;
  kind: ArmKind;
  /** `berth run` flags (berth), or client transport flags (ceilings). */
  args: string[];
}

const ARM_KINDS: readonly ArmKind[] = ['upstream', 'berth', 'ceiling', 'ceiling-bind'];

export function parseArms(spec: string): Arm[] {
  const arms = spec
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s): Arm => {
      // `name=` is one word before the first '=': an unnamed arm's flags may hold '=' themselves (berth --node=X),
      // and such an arm is named by its whole text.
      const named = /^([^\s=]+)\s*=(.*)$/s.exec(s);
      const [kind, ...args] = (named ? (named[2] as string) : s).trim().split(/\s+/);
      const name = named ? (named[1] as string) : s.replace(/\s+/g, ' ');
      if (!ARM_KINDS.includes(kind as ArmKind)) throw new Error(`--arms: "${s}": the kind must be one of ${ARM_KINDS.join(', ')}`);
      if (kind === 'upstream' && args.length > 0) throw new Error(`--arms: "${s}": upstream takes no flags`);
      return { name, kind: kind as ArmKind, args };
    });
  const names = new Set(arms.map((a) => a.name));
  if (names.size !== arms.length) throw new Error('--arms: two arms have the same name (use name=kind flags…)');
  if (arms.length === 0) throw new Error('--arms: no arm given');
  return arms;
}

