import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** What one module exports, as the TypeScript checker sees it: runtime values and type-only names, each sorted. */
export interface ExportedNames {
  values: string[];
  types: string[];
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Reads the exports of each source file (paths relative to the repository root)
 * with one TypeScript program under the project's tsconfig. A name that is a
 * value at runtime (a function, class, const) counts as a value, even when it
 * also names a type; an interface or type alias counts as a type. Sources, not
 * the built `.d.ts`, so it needs no build; `tsc` emits the same declarations.
 */
export function exportedNames(files: readonly string[]): Map<string, ExportedNames> {
  const config = ts.getParsedCommandLineOfConfigFile(
    `${root}tsconfig.json`,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      }
    }
  );
  if (config === undefined) throw new Error('tsconfig.json could not be read');
  const paths = files.map((file) => `${root}${file}`);
  const program = ts.createProgram(paths, { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const result = new Map<string, ExportedNames>();
  files.forEach((file, index) => {
    const source = program.getSourceFile(paths[index] ?? '');
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    if (module === undefined) throw new Error(`${file}: not a module the compiler can read`);
    const names: ExportedNames = { values: [], types: [] };
    for (const symbol of checker.getExportsOfModule(module)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      (target.flags & ts.SymbolFlags.Value ? names.values : names.types).push(symbol.name);
    }
    names.values.sort();
    names.types.sort();
    result.set(file, names);
  });
  return result;
}
