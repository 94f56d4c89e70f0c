// `npm run demo`: the main job against the built-in Sophos Central emulator.
process.stderr.write('demo: the modular input run mode is not built yet, so there is nothing to demonstrate (see CHANGELOG.md)\n');
process.exitCode = 1;
