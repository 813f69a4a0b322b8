// A workflow with the build's name whose code throws at every workflow task, as a bug or a code
// change the history does not replay with would: the run stays open and never moves (run-end.test.ts).
export async function haClusterWorkflow(): Promise<never> {
  throw new TypeError('kubeadm-ha test: a bug in the workflow code');
}
