using Amazon.CDK;
using StepML.Infra;

var app = new App();
_ = new StepMLStack(app, "StepML", RepositoryLayout.FindRoot(Directory.GetCurrentDirectory()), new StackProps
{
    Description = "StepML: serverless model training on Lambda, orchestrated by Step Functions",
});
app.Synth();
