from accounts.api import Router
from annotation import views

router = Router()
router.register("projects", views.ProjectViewSet, basename="project")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("jobs", views.JobViewSet, basename="job")
router.register("labels", views.LabelViewSet, basename="label")
router.register("issues", views.IssueViewSet, basename="issue")
router.register("comments", views.CommentViewSet, basename="comment")

urlpatterns = router.urls
