// Type-aware lint for the server, its tests, the benchmark and the load tests.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "bench/results/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "max-len": ["error", { code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // One function decides a client's address (TRUST_PROXY): src/http/client-address.ts.
    files: ["src/**/*.ts"],
    ignores: ["src/http/client-address.ts", "src/http/connections.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[property.name=/^(ip|ips)$/][object.name=/^req(uest)?$/]",
          message: "a client's address is addressOf(req) (src/http/client-address.ts), which honours TRUST_PROXY",
        },
        {
          selector: "MemberExpression[property.name='remoteAddress']",
          message: "a client's address is addressOf(req) (src/http/client-address.ts), which honours TRUST_PROXY",
        },
      ],
    },
  },
  {
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: "readonly", URL: "readonly", console: "readonly" } },
  },
);
