// Monaco's web workers (editor, JSON, GraphQL), bundled by Vite; must run before GraphiQL loads.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import "./app.css";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { exampleOperations } from "./examples";
import { graphiqlStorage } from "./graphiql-storage";
import { formatVariables, seedExampleTabs, takeLinkedOperation } from "./startup";

const storage = graphiqlStorage();
const examples = exampleOperations();
seedExampleTabs(storage, examples);
const defaultTabs = examples.map((example) => ({
  query: example.query,
  variables: formatVariables(example.variables),
}));
const startup = takeLinkedOperation(window.location, window.history);

const rootElement = document.getElementById("root");
if (!rootElement) throw new Error("index.html has no #root element");
createRoot(rootElement).render(<App storage={storage} defaultTabs={defaultTabs} startup={startup} />);
