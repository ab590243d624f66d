// The webhook thread's entry (started by thread.ts): the webhook worker on an event loop of its
// own, so making events and sending them never delays the service's requests.
import { parentPort, workerData } from "node:worker_threads";
import { registry } from "../ops/metrics.js";
import type { FromThread, ThreadAnswers, ToThread, WebhookThreadData } from "./thread-protocol.js";
import { startWebhookWorker } from "./worker.js";

const port = parentPort!;
const { connectionString, settings, key } = workerData as WebhookThreadData;
const worker = startWebhookWorker(connectionString, settings, Buffer.from(key));

const dispatcherCounters = () => ({ inFlight: worker.dispatcher.inFlight(), attemptsSent: worker.dispatcher.attemptsSent() });

const answers: { [R in keyof ThreadAnswers]: () => Promise<ThreadAnswers[R]> } = {
  drain: async () => {
    await worker.materializer.drain();
    return null;
  },
  dispatcher: async () => dispatcherCounters(),
  metrics: async () => {
    await worker.dispatcher.readQueueStats();
    return registry.getMetricsAsJSON();
  },
  stop: async () => {
    await worker.stop();
    return dispatcherCounters();
  },
};

const post = (message: FromThread) => port.postMessage(message);

port.on("message", (message: ToThread) => {
  if (message.type === "written") return worker.materializer.written();
  answers[message.request]().then(
    (value) => {
      post({ type: "answer", id: message.id, value });
      if (message.request === "stop") port.close(); // nothing else runs: the thread ends
    },
    (error: unknown) => post({ type: "failed", id: message.id, message: error instanceof Error ? error.message : String(error) }),
  );
});
post({ type: "ready" });
