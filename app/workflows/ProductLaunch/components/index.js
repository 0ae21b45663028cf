// ProductLaunch's ChatUI components: the MozaiksAI ChatUI loads this module as
// `@chat-workflows/ProductLaunch/components/index.js` and renders the export whose name is the
// `ui.component` of a tool in ../tools.yaml. See docs/workflows.md ("ChatUI components").
import LaunchBriefForm from './LaunchBriefForm';

const ProductLaunchComponents = { LaunchBriefForm };

export default ProductLaunchComponents;
