/**
 * Each test file leaves process.env as it found it. Jest runs the files of a worker one after another in
 * one process, and a devhost or `devhost emulators` started in-process sets the app's settings in
 * process.env, as the host would; devhost children started by a later file inherit process.env, so a
 * setting left behind (a topic endpoint on the emulators' well-known port, long closed) was taken for the
 * app's own: devhost.changeFeed's restarted app published to 127.0.0.1:10003 and failed its reads.
 */
const found = { ...process.env };

afterAll(() => {
  for (const name of Object.keys(process.env)) if (!(name in found)) Reflect.deleteProperty(process.env, name);
  Object.assign(process.env, found);
});
