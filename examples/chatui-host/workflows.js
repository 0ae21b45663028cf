// The ChatUI's workflow registry (@chat-workflows/index) built from the MozaiksCore workspace:
// every app/workflows/<Workflow>/components/index.js becomes that workflow's components.
// vite.config.js points the @chat-workflows alias at the workspace's workflows folder.
const modules = import.meta.glob('@chat-workflows/*/components/index.js', { eager: true });

const WORKFLOW_REGISTRY = Object.fromEntries(
  Object.entries(modules).map(([path, module]) => [path.split('/').slice(-3)[0], { components: module.default || {} }]),
);

export const getLoadedWorkflows = () => Object.keys(WORKFLOW_REGISTRY);

export const getWorkflow = (workflowName) => WORKFLOW_REGISTRY[workflowName] ?? null;

export const initializeWorkflows = (registerComponent) => {
  if (typeof registerComponent !== 'function') return;
  for (const [workflowName, { components }] of Object.entries(WORKFLOW_REGISTRY)) {
    for (const [componentName, component] of Object.entries(components)) {
      registerComponent(componentName, component, { description: `${workflowName} workflow component` });
    }
  }
};

export default { getLoadedWorkflows, getWorkflow, initializeWorkflows };
