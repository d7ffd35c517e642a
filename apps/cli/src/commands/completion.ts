import type { Command } from 'commander';

import type { Io } from '../output.ts';

/** Every command path (`''` for the top) with the words that may follow it: its subcommands and its options. */
function vocabulary(cmd: Command, prefix = ''): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const words = [...cmd.commands.map((c) => c.name()), ...cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x))];
  out.set(prefix, words);
  for (const sub of cmd.commands) for (const [k, v] of vocabulary(sub, prefix ? `${prefix} ${sub.name()}` : sub.name())) out.set(k, v);
  return out;
}

/**
 * A bash completion script for the whole command tree (subcommands and options at each level, the global options
 * everywhere). zsh runs the same through bashcompinit.
 */
export function bashCompletion(program: Command): string {
  const vocab = vocabulary(program);
  const globals = (vocab.get('') ?? []).filter((w) => w.startsWith('-'));
  const cases = [...vocab]
    .map(([path, words]) => `    ${JSON.stringify(path)}) words=${JSON.stringify([...new Set([...words, ...globals])].join(' '))} ;;`)
    .join('\n');
  return `# zkha completion (bash). Install: zkha completion bash > /etc/bash_completion.d/zkha
_zkha() {
  local cur=\${COMP_WORDS[COMP_CWORD]} path="" w words
  # The command path so far: the words before the cursor that are not options or their values.
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) case "\${path:+$path }$w" in ${
      [...vocab.keys()]
        .filter((k) => k !== '')
        .map((k) => JSON.stringify(k))
        .join('|') || '""'
    }) path="\${path:+$path }$w" ;; esac ;; esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -F _zkha zkha
`;
}

export function registerCompletion(program: Command, io: Io): void {
  program
    .command('completion')
    .argument('<shell>', 'bash or zsh')
    .description('prints a shell completion script (bash: source it or put it in /etc/bash_completion.d; zsh: source it from ~/.zshrc)')
    .action((shell: string) => {
      const script = bashCompletion(program);
      if (shell === 'bash') io.out(script);
      else if (shell === 'zsh')
        io.out(
          `# zkha completion (zsh, through bashcompinit). Install: zkha completion zsh > ~/.zkha-completion.zsh; source it from ~/.zshrc\nautoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n${script}`,
        );
      else program.error(`completion: the shell is bash or zsh, not ${JSON.stringify(shell)}`, { exitCode: 2 });
    });
}
